"""The server's log written in batches keeps every line, in order, and nothing waits long (issue #11)."""

import io
import logging
import time

from conftest import eventually

from revise.log_lines import BatchedStreamHandler, SecondsFormatter


class Stream(io.StringIO):
    """A stream that counts its writes."""

    writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def _logger(handler, name):
    logger = logging.getLogger(f"test_log_lines.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_request_lines_go_out_together_soon_without_anything_more_being_logged():
    stream = Stream()
    handler = BatchedStreamHandler(stream, delay=0.2)
    log = _logger(handler, "soon")
    for i in range(50):
        log.info("GET /c/%s 200", i)
    assert eventually(lambda: stream.getvalue().count("\n") == 50)
    assert stream.getvalue().splitlines() == [f"GET /c/{i} 200" for i in range(50)]
    assert stream.writes <= 3  # a batch, not fifty writes
    handler.close()


def test_a_warning_is_written_at_once_with_every_line_before_it():
    stream = Stream()
    handler = BatchedStreamHandler(stream, delay=3600)  # the clock alone would not write them
    log = _logger(handler, "warning")
    log.info("GET / 200")
    log.info("POST /c/x/comment 303")
    assert stream.getvalue() == ""
    log.warning("a client went away mid-request")
    assert stream.getvalue().splitlines() == ["GET / 200", "POST /c/x/comment 303", "a client went away mid-request"]
    handler.close()


def test_a_burst_is_written_when_the_batch_is_full_and_close_writes_the_rest():
    stream = Stream()
    handler = BatchedStreamHandler(stream, delay=3600, limit=1000)
    log = _logger(handler, "burst")
    for i in range(100):
        log.info("line %03d of the burst", i)  # 21 characters each
    written = stream.getvalue().count("\n")
    assert 90 <= written < 100 and stream.writes < 5
    handler.close()
    assert stream.getvalue().splitlines() == [f"line {i:03d} of the burst" for i in range(100)]


def test_times_are_formatted_as_logging_formats_them():
    plain, seconds = logging.Formatter("%(asctime)s %(message)s"), SecondsFormatter("%(asctime)s %(message)s")
    start = time.time()
    for offset in (0, 0.001, 0.5, 0.999, 1.0, 1.5, 59.9, 60.0, 3600.25, 86400.7):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = start + offset, ((start + offset) % 1) * 1000
        assert seconds.format(record) == plain.format(record)


def test_an_access_line_written_the_quick_way_is_the_line_logging_writes(monkeypatch):
    """The access log's lines go straight into the server's batched handler (quick_info) where
    nothing else is on the way: the very bytes logging's record and formatter would write, in
    the same batches; with a filter, another handler or a capture on the way, nothing is written
    that way and the caller logs the usual way."""
    import os

    from revise.log_lines import LINE_FORMAT, quick_info
    from revise.web import access_log

    def hierarchy(name):
        stream = Stream()
        handler = BatchedStreamHandler(stream, delay=3600)
        handler.setFormatter(SecondsFormatter(LINE_FORMAT))
        parent = _logger(handler, name)  # as revise/serving.py: the handler on "revise"
        child = logging.getLogger(f"test_log_lines.{name}.access")
        child.handlers[:], child.filters[:], child.propagate = [], [], True
        return stream, handler, parent, child

    quick, slow = hierarchy("quick"), hierarchy("slow")
    moments = [1796235957.0, 1796235957.0005, 1796235957.81393, 1796235958.999999, 1796236000.25]
    lines = [("203.0.113.7", "GET", "/c/nanchong-2022?lang=en", 200, 3.14159),
             ("198.51.100.4", "POST", "/d/[token]/remarks", 303, 12.4),
             ("2001:db8::1", "GET", "/r/[receipt]", "-", 0.04),
             ("203.0.113.7", "GET", "/c/南充", 404, 1234.5),
             ("-", "?", "/", 431, 0.0)]
    for at, args in zip(moments, lines):
        monkeypatch.setattr(time, "time", lambda at=at: at)
        assert quick_info(quick[3], access_log._LINE % args) is True
        slow[3].handle(slow[3].makeRecord(slow[3].name, logging.INFO, __file__, 0, access_log._LINE, args, None, "x"))
    monkeypatch.undo()
    quick[1].flush(), slow[1].flush()
    assert quick[0].getvalue() == slow[0].getvalue()
    assert quick[0].writes == slow[0].writes == 1  # one batch each
    assert f" INFO [{os.getpid()}] 203.0.113.7 \"GET /c/nanchong-2022?lang=en\" 200 3.1ms\n" in quick[0].getvalue()

    stream, handler, parent, child = hierarchy("other")
    child.addFilter(lambda record: True)
    assert quick_info(child, "x") is False
    child.filters[:] = []
    child.addHandler(logging.NullHandler())
    assert quick_info(child, "x") is False
    child.handlers[:] = []
    handler.setFormatter(SecondsFormatter("%(asctime)s %(message)s"))
    assert quick_info(child, "x") is False
    handler.flush()
    assert stream.getvalue() == ""
    for h in (quick[1], slow[1], handler):
        h.close()
