"""Pick up bank statements from the bank's SFTP server into the landing zone.

The bank's server is outside our control, so everything here assumes the worst of it. One
module per job:

* ``errors``    — the one-line errors, and which of them a retry cannot fix;
* ``trust``     — host-key trust and key authentication: the host key must already be in the
  configured known_hosts file (never the system files, never added on first use), and an
  unknown or changed key is refused before any credential is sent;
* ``session``   — a lazily (re)opened connection with exponential backoff for network hiccups
  and one deadline for a whole pull;
* ``stability`` — which listed files are complete: the same (size, mtime) at two looks, or a
  ``<name><marker_suffix>`` beside them;
* ``pull``      — ``pull_statements``, the one entry point: list, judge, download each complete
  file through ``LandingZone.land_stream`` (nothing lands on a short read), archive;
* ``archive``   — moving a landed file into ``archive_dir``, never deleting, never overwriting.

The looks a pull needs from the previous one are plain JSON; where they are kept between
pulls is the pick-up's business (``recon_pipeline.sources.pickup``).
"""
