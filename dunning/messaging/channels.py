"""Which channels carry a ladder step to a debtor: the debtor's preferred channel, formal steps by letter and
(where an address is known) also by e-mail, and a fallback to the other channel when one has no usable
address. Pure: the caller records the notes in the dossier."""

from __future__ import annotations

from dataclasses import dataclass

from dunning.domain.fields import is_valid_email_address
from dunning.domain.kinds import Channel
from dunning.domain.steps import Message, Step
from dunning.storage.models import Debtor

# Formal steps go on paper: the letter is the evidence that reached the debtor (BW 3:37 lid 3, 3:317).
FORMAL_STEPS = frozenset({Message.ingebrekestelling.value})


@dataclass(frozen=True)
class Route:
    channels: tuple[Channel, ...]  # in the order they go out; empty: nothing can be sent
    notes: tuple[str, ...] = ()  # fallbacks and gaps, for the dossier


def has_email(debtor: Debtor) -> bool:
    return bool(debtor.email) and is_valid_email_address(debtor.email or "")


def has_postal_address(debtor: Debtor) -> bool:
    return all((debtor.street or "").strip() and (v or "").strip() for v in (debtor.postcode, debtor.city))


def route(step: Step, debtor: Debtor, formal: frozenset[str] | tuple[str, ...] = FORMAL_STEPS) -> Route:
    """`formal`: the messages that go by letter and e-mail whatever the debtor prefers (the policy's `by_post`)."""
    email, letter = has_email(debtor), has_postal_address(debtor)
    if step.sends.value in formal:
        # The e-mail copy first: the letter then holds the run until it is marked posted.
        channels = tuple(c for c, usable in ((Channel.email, email), (Channel.letter, letter)) if usable)
        notes = () if letter else (f"{step}: no postal address, so no letter; sent by e-mail only",)
        if not channels:
            notes = (f"{step}: neither a postal address nor an e-mail address is known",)
        return Route(channels, notes)
    preferred = Channel.letter if debtor.preferred_channel is Channel.letter else Channel.email
    other = Channel.email if preferred is Channel.letter else Channel.letter
    usable = {Channel.email: email, Channel.letter: letter}
    if usable[preferred]:
        return Route((preferred,))
    if usable[other]:
        missing = "e-mail address" if preferred is Channel.email else "postal address"
        return Route((other,), (f"{step}: no usable {missing}; sent by {other.value} instead",))
    return Route((), (f"{step}: neither an e-mail address nor a postal address is known",))
