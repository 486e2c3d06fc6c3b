"""Casework: the facts of each case and what people do with them. Invoices and payments, the append-only
dossier, human tasks (calls, approvals), disputes, payment plans, credit holds, personal notes, the snapshot
of facts the ladder decides on, sheets for the people in the loop, the daily overview, importing invoices.

Functions take a session from their caller and never commit on their own. May import: `dunning.domain`,
`dunning.law`, `dunning.storage`. Not messaging, not the CLI, never Prefect."""
