"""The daily overview: what needs a person today. Nothing waits silently: open calls, approvals and disputes
(with who sorts them out and by when), payment plans debtors asked for, letters not yet posted, debtors on
credit hold, gaps and unconfirmed unverified rows in the law's rate tables and the messages they hold, e-mails the
mail server refused and e-mails whose delivery is in doubt (with the commands that decide them); and the
link to the Prefect UI's list of the runs that wait for a person, by the tags those runs carry. In the
installation's language (settings.toml `language`)."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import holds, human_tasks, plans, policies
from dunning.domain import markdown as md
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.domain.ladder import asked_on, plan_request_ends
from dunning.domain.time import local
from dunning.law import rate_table_warnings
from dunning.messaging import channels, outbox, print_queue
from dunning.messaging.sending import HELD_KEY
from dunning.storage.config import Installation
from dunning.storage.models import DossierEntry, Invoice, OutboxMessage

# What a paused run waits for, as a tag on the run in the Prefect UI's run list (tasks/run_tags.py sets them):
# a person (one of AWAITING) or the calendar (WAITING), never both, and none while the run goes on.
AWAITING = {
    "call": "awaiting:call",
    "approval": "awaiting:approval",
    "dispute": "awaiting:dispute",
    "payment-match": "awaiting:payment-match",
}
WAITING = "waiting"
# The debtor's name on the invoice run: a flow run has no description the UI shows, and its name is the invoice
# number, so the name is a tag, shown beside `debtor:<number>` (the sweep's) in the run list.
DEBTOR_NAME = "debtor-name:"
_NAME_LENGTH = 100
# A paused run may wait for years (flows/collect_invoice.py PAUSE_TIMEOUT): the classic UI's run list shows the
# runs started in the past week unless told otherwise, so its links ask for the past ten years.
_TEN_YEARS = 3650 * 24 * 3600


def run_tags(tags: list[str], pause: str | None = None, debtor_name: str | None = None) -> list[str]:
    """`tags` with `pause` (one of AWAITING's, or WAITING) as the only pause tag, none when it is None, and the
    debtor's name when given; every other tag (`debtor:<number>`, `payment`, the deployment's) kept in its
    place. The same tags in give the same tags out, so a replay changes nothing."""
    pauses = {*AWAITING.values(), WAITING}
    kept = [t for t in tags if t not in pauses and not (debtor_name is not None and t.startswith(DEBTOR_NAME))]
    if debtor_name is not None and (name := " ".join(debtor_name.split())[:_NAME_LENGTH]):
        kept.append(DEBTOR_NAME + name)
    if pause is not None:
        kept.append(pause)
    return kept


def ui_url(inst: Installation) -> str:
    """The Prefect UI of this installation: its API's address without /api."""
    return inst.prefect_api_url.rstrip("/").removesuffix("/api")


def needs_a_person_url(ui: str, tags: tuple[str, ...] = tuple(AWAITING.values())) -> str:
    """The UI's list of the suspended runs that carry any of `tags`, of any age: the Prefect UI of 3.8.8 at
    /v2/runs (the one a browser opens at first), whose `tags` filter is a comma-separated list of which a run
    needs one. (The classic UI's tag filter wants all of them at once: `runs_tagged_url`.) Suspended only: a
    resumed run keeps its tag until it starts, and a run ended from outside (a bank line decided with the CLI)
    keeps it for good."""
    return f"{ui}/v2/runs?tags={quote(','.join(tags), safe=':,')}&state=Suspended"


def runs_tagged_url(ui: str, tag: str) -> str:
    """The classic UI's list (at /runs) of the suspended runs that carry `tag`, started in the last ten years."""
    return f"{ui}/runs?tag={quote(tag, safe=':')}&state=Suspended&type=span&seconds=-{_TEN_YEARS}"


def build(session: Session, inst: Installation, now: datetime) -> dict:
    today = local(now).date()
    tasks = [
        {
            "invoice": t.invoice.number,
            "debtor": t.invoice.debtor.name,
            "kind": t.kind.value,
            "step": str(t.step),
            "days_open": (today - local(t.created_at).date()).days,
            "responsible": t.assignee,
            "due_on": t.due_on.isoformat() if t.due_on else None,
            "overdue": t.due_on is not None and t.due_on < today,
            "also_for": [j.invoice.number for j in human_tasks.joined_to(session, t)],
        }
        for t in human_tasks.all_open(session)
    ]
    plan_requests = [_plan_request(r, inst, today) for r in plans.requested(session)]
    letters = [
        {
            "invoice": print_queue.invoice_number(session, m),
            "step": str(m.step),
            "printed_on": print_queue.printed_on(m).isoformat(),
            "days_waiting": (today - print_queue.printed_on(m)).days,
            "file": str(print_queue.file_for(inst, m)),
        }
        for m in print_queue.waiting(session)
    ]
    on_hold = [
        {"debtor": d.number, "name": d.name, "since": local(d.hold_since).date().isoformat(), "reason": d.hold_reason}
        for d in holds.on_hold(session)
        if d.hold_since is not None
    ]
    warnings = [w for k in ("commercial", "non-commercial") for w in rate_table_warnings(k, today, inst.law_dir)]
    warnings += _held_for_rates(session, warnings)
    ui = ui_url(inst)
    return {
        "date": today.isoformat(),
        "language": inst.language,
        "needs_a_person": {
            "all": needs_a_person_url(ui),
            **{what: runs_tagged_url(ui, tag) for what, tag in AWAITING.items()},
        },
        "tasks": tasks,
        "plan_requests": plan_requests,
        "letters": letters,
        "holds": on_hold,
        "mail_refused": _refused_by_mail_server(session),
        "in_doubt": _in_doubt(session),
        "warnings": warnings,
    }


def _refused_by_mail_server(session: Session) -> list[dict]:
    """E-mails of open invoices the mail server refused for good (SMTP 5xx), while the debtor's address is still
    the one refused: someone should correct it. The step went by letter where there is a postal address."""
    query = (
        select(OutboxMessage, Invoice)
        .join(Invoice, Invoice.id == OutboxMessage.invoice_id)
        .where(OutboxMessage.status == OutboxStatus.refused, OutboxMessage.smtp_code.is_not(None),
               OutboxMessage.channel == Channel.email, Invoice.closed_reason.is_(None))
        .order_by(OutboxMessage.id)
    )
    return [
        {
            "invoice": invoice.number,
            "debtor": invoice.debtor.name,
            "step": str(m.step),
            "address": m.recipient,
            "on": local(m.sent_at or m.created_at).date().isoformat(),
            "code": m.smtp_code,
            "reason": m.last_error,
            "by_letter": channels.has_postal_address(invoice.debtor),
        }
        for m, invoice in session.execute(query)
        if invoice.debtor.email == m.recipient
    ]


def _in_doubt(session: Session) -> list[dict]:
    """E-mails handed to the mail server whose arrival nobody knows (the connection ended, the run stopped): never
    sent again on their own; a person confirms or resends each."""
    found = []
    for m in outbox.in_doubt(session):
        invoice = session.get_one(Invoice, m.invoice_id)
        found.append({
            "key": m.key,
            "invoice": invoice.number,
            "debtor": invoice.debtor.name,
            "step": str(m.step),
            "address": m.recipient,
            "since": local(m.sent_at or m.created_at).isoformat(timespec="minutes"),
            "why": m.last_error,
            "also_for": [session.get_one(Invoice, o.invoice_id).number for o in outbox.sent_with(session, m)],
        })
    return found


def _held_for_rates(session: Session, rate_warnings: list[str]) -> list[str]:
    """One line per message of an open invoice held for an unconfirmed rate row (`sending.Held`), while a row it
    waits for is still named among `rate_warnings`."""
    query = (
        select(DossierEntry, Invoice)
        .join(Invoice, Invoice.id == DossierEntry.invoice_id)
        .where(DossierEntry.key.contains(f":{HELD_KEY}:"), Invoice.closed_reason.is_(None))
        .order_by(DossierEntry.id)
    )
    lines = []
    for entry, invoice in session.execute(query):
        rows = [r for r in (entry.data or {}).get("unconfirmed_rates", [])
                if any(f"rate from {r['from']} " in w and f" {r['table']} " in w for w in rate_warnings)]
        if rows:
            waits = ", ".join(r["row"] for r in rows)
            lines.append(f"warning: the {(entry.data or {}).get('step')} of invoice {invoice.number} is held until "
                         f"a person confirms {waits}")
    return lines


def _plan_request(r: plans.PlanRequest, inst: Installation, today: date) -> dict:
    policy = policies.policy_for(inst.home, r.invoice.debtor.number)
    ends = local(plan_request_ends(r.call, policy)).date()
    return {
        "invoice": r.invoice.number,
        "debtor": r.invoice.debtor.name,
        "asked_on": asked_on(r.call).isoformat(),
        "by": r.by,
        "escalation_waits_until": ends.isoformat(),
        "escalation_went_on": ends <= today,
    }


_KINDS = {"en": {}, "nl": {"call": "gesprek", "approval": "akkoord", "dispute": "betwisting"}}
_WORDS = {
    "en": {
        "title": "Daily overview",
        "needs": "Runs waiting for a person",
        "all": "All runs waiting for a person",
        "all_what": "calls, approvals, disputes, payments to match",
        "classic": "in the classic UI",
        "call": "calls", "approval": "approvals", "dispute": "disputes", "payment-match": "payments to match",
        "tasks": "Open tasks",
        "task": "{kind} **{invoice}** ({debtor}): {step}, open {days} day(s)",
        "also": ", also for {invoices}",
        "due": "; {who} sorts it out by {due}",
        "nobody": "nobody named",
        "overdue": " — **overdue**",
        "none": "_None._",
        "plans": "Payment plans asked for",
        "asked": "**{invoice}** ({debtor}): asked on {on}",
        "asked_by": " (call by {by})",
        "went_on": "; not agreed, so escalation went on on {on}",
        "waits": "; escalation waits until {on}",
        "agree": " — agree it with `dunning plan {invoice} --instalment DATE=AMOUNT ...`",
        "letters": "Letters to post",
        "letter": "**{invoice}** {step}, printed {on}",
        "late": " — **not posted for {days} day(s)**: its run waits; posting it late voids it and a new one is printed",
        "holds": "Credit holds",
        "hold": "{debtor} {name}, since {since}: {reason}",
        "refused": "Messages refused by the mail server",
        "refusal": "**{invoice}** ({debtor}) {step} to {address}, {on}: {reason}",
        "by_letter": " — sent by letter instead; correct the e-mail address",
        "no_letter": " — **nothing was sent**: no postal address; correct the e-mail address or add one",
        "in_doubt": "Messages in doubt",
        "doubt": "**{invoice}** ({debtor}) {step} to {address}, handed over {since}: {why}",
        "decide": " — it may have arrived, so it is not sent again by itself: `dunning outbox confirm {key}` once "
                  "the mail server's log shows it arrived, or `dunning outbox resend {key}`",
        "warnings": "Warnings",
    },
    "nl": {
        "title": "Dagoverzicht",
        "needs": "Runs die op iemand wachten",
        "all": "Alle runs die op iemand wachten",
        "all_what": "gesprekken, akkoorden, betwistingen, betalingen om te koppelen",
        "classic": "in de klassieke UI",
        "call": "gesprekken", "approval": "akkoorden", "dispute": "betwistingen",
        "payment-match": "betalingen om te koppelen",
        "tasks": "Open taken",
        "task": "{kind} **{invoice}** ({debtor}): {step}, {days} dag(en) open",
        "also": ", ook voor {invoices}",
        "due": "; {who} handelt het af uiterlijk {due}",
        "nobody": "niemand genoemd",
        "overdue": " — **te laat**",
        "none": "_Geen._",
        "plans": "Gevraagde betalingsregelingen",
        "asked": "**{invoice}** ({debtor}): gevraagd op {on}",
        "asked_by": " (gesprek door {by})",
        "went_on": "; niet afgesproken, dus de escalatie ging verder op {on}",
        "waits": "; de escalatie wacht tot {on}",
        "agree": " — spreek hem af met `dunning plan {invoice} --instalment DATUM=BEDRAG ...`",
        "letters": "Brieven om te posten",
        "letter": "**{invoice}** {step}, afgedrukt {on}",
        "late": " — **{days} dag(en) niet gepost**: de run wacht; later posten maakt de brief ongeldig en er wordt "
                "een nieuwe afgedrukt",
        "holds": "Kredietstops",
        "hold": "{debtor} {name}, sinds {since}: {reason}",
        "refused": "Berichten die de mailserver weigerde",
        "refusal": "**{invoice}** ({debtor}) {step} aan {address}, {on}: {reason}",
        "by_letter": " — in plaats daarvan per brief; verbeter het e-mailadres",
        "no_letter": " — **er ging niets uit**: geen postadres; verbeter het e-mailadres of vul een postadres in",
        "in_doubt": "Berichten waarvan onzeker is of ze aankwamen",
        "doubt": "**{invoice}** ({debtor}) {step} aan {address}, overgedragen {since}: {why}",
        "decide": " — het kan zijn aangekomen, dus het gaat niet vanzelf opnieuw: `dunning outbox confirm {key}` als "
                  "het logboek van de mailserver laat zien dat het aankwam, of `dunning outbox resend {key}`",
        "warnings": "Waarschuwingen",
    },
}


def _in_code(text: str) -> str:
    """Text inside a Markdown code span shows as written; only a backtick could end the span."""
    return " ".join(str(text).replace("`", "'").split())


def as_markdown(o: dict, language: str | None = None) -> str:
    """The overview as Markdown, in `language` or else the one `build` found in the installation's settings."""
    language = language or o.get("language") or "nl"
    w, kinds = _WORDS[language], _KINDS[language]
    lines = [f"# {w['title']} {o['date']}", ""]
    if links := o.get("needs_a_person"):
        classic = " · ".join(f"[{w[what]}]({links[what]})" for what in AWAITING if what in links)
        lines += [f"## {w['needs']}", "", f"[{w['all']}]({links['all']}) ({w['all_what']}); {w['classic']}: {classic}",
                  ""]
    lines += [f"## {w['tasks']}", ""]
    lines += [
        "- " + w["task"].format(kind=kinds.get(t["kind"], t["kind"]), invoice=md.text(t["invoice"]),
                                debtor=md.text(t["debtor"]), step=t["step"], days=t["days_open"])
        + (w["also"].format(invoices=", ".join(md.text(i) for i in t["also_for"])) if t.get("also_for") else "")
        + (w["due"].format(who=md.text(t["responsible"]) or w["nobody"], due=t["due_on"]) if t.get("due_on") else "")
        + (w["overdue"] if t.get("overdue") else "")
        for t in o["tasks"]
    ] or [w["none"]]
    lines += ["", f"## {w['plans']}", ""]
    lines += [
        "- " + w["asked"].format(invoice=md.text(r["invoice"]), debtor=md.text(r["debtor"]), on=r["asked_on"])
        + (w["asked_by"].format(by=md.text(r["by"])) if r.get("by") else "")
        + (w["went_on"] if r["escalation_went_on"] else w["waits"]).format(on=r["escalation_waits_until"])
        + w["agree"].format(invoice=_in_code(r["invoice"]))
        for r in o.get("plan_requests", [])
    ] or [w["none"]]
    lines += ["", f"## {w['letters']}", ""]
    lines += [
        "- " + w["letter"].format(invoice=md.text(x["invoice"]), step=x["step"], on=x["printed_on"])
        + (w["late"].format(days=x["days_waiting"]) if x["days_waiting"] else "")
        + f" (`{_in_code(x['file'])}`)"
        for x in o["letters"]
    ] or [w["none"]]
    lines += ["", f"## {w['holds']}", ""]
    lines += [
        "- " + w["hold"].format(debtor=md.text(h["debtor"]), name=md.text(h["name"]), since=h["since"],
                                reason=md.text(h["reason"]))
        for h in o["holds"]
    ] or [w["none"]]
    lines += failed_runs_section(o.get("failed_runs", []), language)
    # Like failed runs and warnings: a section only when there is something to see to.
    if refused := o.get("mail_refused"):
        lines += ["", f"## {w['refused']}", ""]
        lines += [
            "- " + w["refusal"].format(invoice=md.text(r["invoice"]), debtor=md.text(r["debtor"]), step=r["step"],
                                       address=md.text(r["address"]), on=r["on"], reason=md.text(r["reason"]))
            + (w["by_letter"] if r["by_letter"] else w["no_letter"])
            for r in refused
        ]
    if in_doubt := o.get("in_doubt"):
        lines += ["", f"## {w['in_doubt']}", ""]
        lines += [
            "- " + w["doubt"].format(invoice=md.text(d["invoice"]), debtor=md.text(d["debtor"]), step=d["step"],
                                     address=md.text(d["address"]), since=d["since"], why=md.text(d["why"]))
            + (w["also"].format(invoices=", ".join(md.text(i) for i in d["also_for"])) if d.get("also_for") else "")
            + w["decide"].format(key=_in_code(d["key"]))
            for d in in_doubt
        ]
    if o["warnings"]:
        lines += ["", f"## {w['warnings']}", "", *(f"- {x}" for x in o["warnings"])]
    return "\n".join(lines) + "\n"


# -- failed runs ---------------------------------------------------------------------------------------------

_FAILED_WORDS = {
    "en": {"title": "Failed runs",
           "run": "**{invoice}**: {state} on {at}: {error} — once the cause is fixed: `{retry}`",
           "sweep": "_The sweep restarts them by itself once the configuration loads, with a growing pause._"},
    "nl": {"title": "Mislukte runs",
           "run": "**{invoice}**: {state} op {at}: {error} — als de oorzaak hersteld is: `{retry}`",
           "sweep": "_De sweep start ze zelf opnieuw zodra de configuratie laadt, met een steeds langere pauze._"},
}


def failed_run(invoice: str, state: str, failed_at: datetime, error: str, retry: str) -> dict:
    """One failed invoice run as the overview lists it (read from the Prefect API by tasks/overview.py)."""
    return {"invoice": invoice, "state": state, "failed_at": local(failed_at).strftime("%Y-%m-%d %H:%M"),
            "error": error, "retry": retry}


def failed_runs_section(failed: list[dict], language: str) -> list[str]:
    """The invoice runs that ended Failed or Crashed, with their error line and the command that restarts them;
    nothing when there are none. The error is escaped: it may quote what a debtor or an operator typed."""
    if not failed:
        return []
    w = _FAILED_WORDS[language]
    rows = [
        "- " + w["run"].format(invoice=md.text(f["invoice"]), state=md.text(f["state"]), at=f["failed_at"],
                               error=md.text(f["error"]), retry=_in_code(f["retry"]))
        for f in failed
    ]
    return ["", f"## {w['title']}", "", *rows, "", w["sweep"]]
