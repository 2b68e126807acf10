"""Messages between revise and its own child processes (revise.diff_process, revise.writer_process):
each a pickle behind its length in 4 bytes, big-endian. The children are ours and speak only to
us, so pickle is safe here."""

from __future__ import annotations

import pickle
import struct

HEADER = struct.Struct(">I")
# A frame longer than this is a broken pipe, not a message. A comment's attachment travels in a
# writer's job (REVISE_MAX_ATTACHMENT_BYTES, 5 MB by default), one to a message.
MESSAGE_MAX = 1024 * 1024 * 1024


def send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream):
    """The next message from a blocking stream, or None at the end of the pipe."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (length,) = HEADER.unpack(head)
    if length > MESSAGE_MAX:
        raise ValueError(f"a message of {length} bytes on a child's pipe")
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)
