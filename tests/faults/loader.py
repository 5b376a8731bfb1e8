"""A ServiceNow load in its own process, so a test can SIGKILL it anywhere and read its memory.

`python -m tests.faults.loader WAREHOUSE [--publish]` reads SERVICENOW_* from the environment, lands every
stream with warehouse/ingest.py `ingest` (the loop the nightly job runs) and prints one line per
landed page ("landed <records>"), then "done <json>" with the records read, its peak RSS and CPU time. With --publish it then publishes the
BI copy (warehouse/publish.py), as the nightly job's last step does.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Iterator

from connectors import servicenow
from connectors.base import Page, Stream
from connectors.http import RetryPolicy
from warehouse import Warehouse
from warehouse.ingest import ingest
from warehouse.publish import publish


class ReportingSource:
    """The configured source, saying on stdout each time a page it gave has been landed."""

    def __init__(self, source: servicenow.ServiceNowSource) -> None:
        self.inner = source
        self.name = source.name

    def streams(self) -> list[Stream]:
        return self.inner.streams()

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        for page in self.inner.read(stream, cursor):
            yield page
            # ingest asks for the next page only once this one is committed.
            print(f"landed {len(page.records)}", flush=True)


def main() -> None:
    source = servicenow.from_env(os.environ)
    # Injected faults come often; waiting out the production backoff would only slow the test.
    source.client.policy = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)
    warehouse = Warehouse.at(sys.argv[1], memory_limit="512MB")
    with warehouse.connect() as con:
        print("started", flush=True)
        load = ingest(
            con, ReportingSource(source), run_id="fault-suite", origin=source.instance_url
        )
    if "--publish" in sys.argv[2:]:
        publish(warehouse)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "records": load.received,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    print("done " + json.dumps(figures))


if __name__ == "__main__":
    main()
