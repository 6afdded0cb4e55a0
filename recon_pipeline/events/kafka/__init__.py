"""Bounded, replayable snapshots of the payment-event topics: the Kafka side of the events.

Why snapshots and not a long-running consumer: reconciliation works on closed pay cycles, so
what matters is that every offset reaches the landing zone once and can be re-read forever,
not latency. A snapshot is a set of half-open offset ranges ``[from, to)``, one per
topic-partition: ``from`` is where landing stopped, ``to`` is the partition's end *at planning
time*. Ranges are plain data, so a sensor can put them in run tags and a run key
(``kafka:<topic>:<p>:<from>-<to>|...``) and any process can land them later with exactly the
same result.

One module per job, none of them touching the warehouse (``recon_pipeline.warehouse`` may
import the events; never the other way round):

* ``client``  — the consumer's configuration and librdkafka's errors as one-line exceptions;
* ``read``    — the one poll loop (ends, earliest offset, the messages of a range);
* ``plan``    — offset ranges and plans as plain data, and planning from known starts;
* ``land``    — a range as an atomic Parquet file in the landing zone, and reading them back;
* ``commit``  — the advisory consumer-group commit (lag dashboards only, never read back).

Recording ranges in ``raw.kafka_offset_ledger`` is the warehouse's job
(``recon_pipeline.warehouse.kafka_ledger``); putting it all together — plan from the ledger,
land, record, commit — is the pick-up's (``recon_pipeline.sources.kafka``).

Broker quirks this code is written around (tansu, the Kafka-protocol broker the tests run):

* ListOffsets answers are wrong for the latest offset (high watermark), so ``OFFSET_END``,
  ``get_watermark_offsets`` and ``offsets_for_times`` cannot be trusted. The end of a partition
  is found by consuming to a partition-EOF event (``enable.partition.eof``); the EOF event's
  offset is the end. The earliest offset (``OFFSET_BEGINNING``) does resolve correctly.
* Fetching at an offset beyond the end gets neither data, nor EOF, nor OFFSET_OUT_OF_RANGE:
  the fetch just stays empty. Every wait is therefore bounded by
  ``KafkaSettings.poll_timeout_seconds`` without progress, and then fails with a reason.
* It is memory-only: a restarted broker starts again at offset 0 with nothing in it, which
  looks exactly like the case above when the ledger remembers a larger end.

Planning has to read the new messages once to find the end, and landing reads them again:
the price of not trusting ListOffsets, paid only for messages not yet landed.
"""
