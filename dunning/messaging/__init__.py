"""Messaging: what the debtor receives and how it gets there.

- `channels`: which channels carry a step (pure); `combining`: one e-mail for a debtor's invoices due together
- `compose`: a step's message for an invoice, channel and moment, from the facts: the one path for sending,
  printing and every preview; `preview`: a composed message written to files
- `templating` (Jinja2, the context contract), `letters` (the A4 PDF), `mailer` (MIME and SMTP, aiosmtplib)
- `outbox` (the rows: at most once, evidence exactly once), `sending` (what to do with them now: deliver,
  wait, refuse, record), `print_queue` (letters waiting to be posted), `mailsink` (a local SMTP server)

May import: `dunning.domain`, `dunning.law`, `dunning.storage`, `dunning.casework`. Never Prefect."""
