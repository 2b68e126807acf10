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
