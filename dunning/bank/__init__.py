"""Money in: bank statements read into lines (CAMT.053 and MT940, detected from the content), the payment
reference we state on every message (ISO 11649), and the rules that match a statement line to open invoices.

Pure: bytes and facts in, values out; no database, no clock. May import `dunning.domain` and `dunning.law`;
`dunning.casework` stores what comes out of here."""
