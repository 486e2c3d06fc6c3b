"""dunning: every unpaid invoice a Prefect flow run walking the Dutch collection ladder, with people in the loop.

The sub-packages are layers; each imports only from those below it (tests/unit/test_architecture.py checks):

    cli        the `dunning` command and the `dunning run` supervisor (may use flows, tasks, Prefect)
    desk       what a person sees: call and approval sheets, excuses, the daily overview, the incasso file
    messaging  what the debtor receives: channels, composing, templates, the outbox, SMTP, letters
    casework   the facts of each case and what people do with them
    storage    the installation, the models, sessions, migrations, the clock
    domain     pure: the step vocabulary, the ladder's decide(), policies, kinds, field rules
    law        pure Dutch law: interest, collection costs, terms, holidays, contact windows

Only `cli` (of these) imports Prefect; `flows/`, `tasks/` and `deployments/` beside this package do too.
See docs/architecture.md."""
