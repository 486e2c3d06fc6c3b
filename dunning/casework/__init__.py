"""Casework: the facts of each case and what people do with them. Invoices and payments, the append-only
dossier, human tasks (calls, approvals) and their answers, disputes, payment plans, standing still, credit
holds, personal notes, named policies, importing invoices, and the snapshot of facts the ladder decides on.

Functions take a session from their caller and never commit on their own. May import: `dunning.domain`,
`dunning.law`, `dunning.storage`. Not messaging, not the desk, not the CLI, never Prefect."""
