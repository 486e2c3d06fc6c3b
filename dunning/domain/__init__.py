"""The pure domain: what the collection ladder decides, over facts and a moment in time.

Holds the step vocabulary, the ladder's `decide()`, policies as values, the claim statement and the kinds
(enums) the rest of the engine speaks in. Pure functions and values only: no database, no files, no network,
no clock of its own (callers pass `now`). May import: `dunning.law` and the standard library; nothing else in
`dunning`, and never Prefect."""
