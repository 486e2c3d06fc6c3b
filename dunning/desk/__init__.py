"""The desk: what a person sees before acting. The call sheet and the approval sheet (Markdown for the Prefect
UI's resume forms), the team's list of common excuses, and the daily overview of what needs a person today.

Reads casework and messaging (letters to post); changes nothing. May import: `dunning.messaging`,
`dunning.casework`, `dunning.storage`, `dunning.domain`, `dunning.law`. Never Prefect."""
