"""Invoices in: the documents an accounting package sends or exports (UBL 2.1 e-invoices and credit notes,
spreadsheet exports in their real shapes, open-items lists), read into plain records.

Pure: bytes and settings in, records out; no database, no clock. May import `dunning.domain` and `dunning.law`;
`dunning.casework.importer` decides what a record changes in the books."""
