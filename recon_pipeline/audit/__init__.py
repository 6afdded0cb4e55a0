"""The audit trail: every pipeline and human action, append-only and hash-chained.

``chain`` holds the pure rule (canonical content, record hash, verification);
``log`` appends to ``ops.audit_log`` in the warehouse and spools records from processes that
may not write the warehouse right now (the portal while a DuckDB build holds the writer lock).
"""
from recon_pipeline.audit.chain import AuditRecord, ChainBreak, record_hash, verify_chain
from recon_pipeline.audit.log import append_audit, drain_spool, read_audit_log, spool_audit

__all__ = ["AuditRecord", "ChainBreak", "record_hash", "verify_chain", "append_audit", "drain_spool",
           "read_audit_log", "spool_audit"]
