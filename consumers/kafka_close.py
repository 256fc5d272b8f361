"""kafka-python 3.0.12 closes a consumer's (or admin client's) connections from
the caller's thread while its IO thread may be reading on them.

`KafkaNetClient.close` calls `KafkaConnectionManager.close`, which closes each
socket at once, and only then stops the IO thread. A read the IO thread resumes
in between asks its selector to wait on a socket whose descriptor is already -1,
and the library logs "Unhandled exception in task" with a traceback (seen in CI:
a consumer stopping at the end of a start-up test, on a loaded machine). Nothing
is lost, the client is going away, but an operator reading that log at every
stop learns to skip tracebacks.

The connections are closed on the IO thread itself instead, where no read can
run beside them. If that thread does not answer within a few seconds (a client
in a bad way, being replaced by the watchdog) the library's own close follows as
before: a noisy close is better than a hung one.
"""

from __future__ import annotations

import threading

from kafka.net.compat import KafkaNetClient

ON_ITS_THREAD_S = 5.0
_library_close = KafkaNetClient.close


def close_on_the_io_thread(client: KafkaNetClient, node_id=None) -> None:  # type: ignore[no-untyped-def]
    net = client._net
    thread = net._io_thread
    if thread is not None and thread.is_alive() and threading.current_thread() is not thread and not net._closed:
        closed = threading.Event()
        net.call_soon_with_future(client._manager.close, node_id).add_both(lambda _: closed.set())
        closed.wait(ON_ITS_THREAD_S)
    _library_close(client, node_id)  # the manager's close is idempotent; this stops the thread


KafkaNetClient.close = close_on_the_io_thread  # type: ignore[method-assign]
