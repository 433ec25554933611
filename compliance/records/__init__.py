"""Legal's records, derived from the store (records.md): the subprocessor list and its notice, the
GDPR Art. 30 records of processing, the AI register, and the evidence pack for auditors."""
