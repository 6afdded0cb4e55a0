"""dbt's context as sqlfluff's jinja templater needs it to lint the models (lint only).

``var`` gives each var's default, as a first dbt run with no --vars does, so macros that walk
a dict var (internal_flows) render their empty branch instead of failing on a placeholder.
"""


def var(name, default=None):
    return default if default is not None else "null"
