"""Sending a debtor's statement of account now, on a person's request: `dunning statement DEBTOR --send` and the
`send-statement` desk action share this. One transaction queues and claims the e-mail (or puts the letter in the
print queue), the mail server gets it with no transaction held, another records what the server said: at most
once per debtor, channel and day, recorded exactly once, like the ladder's messages."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel
from dunning.messaging import statement_of_account as soa
from dunning.messaging.mailer import PermanentMailError, TransientMailError, deliver_raw, smtp_settings
from dunning.messaging.sending import Deliver
from dunning.storage import clock, db
from dunning.storage.config import Installation


async def send_statement_now(inst: Installation, number: str, asked: Channel | None) -> str:
    """Send today's statement of account of debtor `number` by `asked` (default: the debtor's preferred channel).
    Returns the line to show; raises `UserError` with the one line to show when it cannot go out."""
    try:
        with db.transaction(inst) as s:
            debtor = soa.debtor_of(s, number)
            chosen = soa.channel_for(debtor, asked)
            decision = soa.prepare(s, inst, debtor, chosen, clock.now(s))
    except IntegrityError:
        # Its outbox key is unique: someone else queued today's statement at this very moment.
        raise UserError(f"{number}: today's statement of account is being sent by someone else right now; "
                        "ask again to see what became of it") from None
    except TransientMailError as error:
        raise UserError(f"{number}: {error}") from None
    if not isinstance(decision, Deliver):
        if decision.status == "sent":
            return (f"{number}: today's statement of account by {chosen.value} was sent already"
                    + (f" ({decision.why})" if decision.why else ""))
        if decision.status == "queued":
            return (f"{number}: statement of account printed; it {decision.why}; it counts as sent when marked "
                    "posted (dunning letters posted)")
        raise UserError(f"{number}: today's statement of account by {chosen.value} was {decision.status}"
                        + (f": {decision.why}" if decision.why else ""))
    try:
        await deliver_raw(smtp_settings(inst), decision.content, [decision.recipient])
    except (TransientMailError, PermanentMailError) as error:
        with db.transaction(inst) as s:
            soa.record_delivery(s, decision, clock.now(s), error)
        if isinstance(error, TransientMailError):
            raise UserError(f"{number}: the statement of account stays queued ({error}); send it again to retry, "
                            "it goes out once") from None
        raise UserError(f"{number}: the mail server refused the statement of account: {error}") from None
    with db.transaction(inst) as s:
        soa.record_delivery(s, decision, clock.now(s))
    return f"{number}: statement of account sent by email to {decision.recipient}"
