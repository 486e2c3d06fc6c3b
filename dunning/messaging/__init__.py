"""Messaging: what the debtor receives and how it gets there. Routing over channels, composing a step's
message (one path for preview and sending), rendering e-mail and letters from `templates/`, the outbox
(at most once, evidence exactly once), the SMTP mailer, the local mail sink and the print queue.

May import: `dunning.domain`, `dunning.law`, `dunning.storage`, `dunning.casework`. Never Prefect."""
