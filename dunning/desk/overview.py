"""The daily overview: what needs a person today. Nothing waits silently: open calls, approvals and disputes
(with who sorts them out and by when), payment plans debtors asked for, letters not yet posted, debtors on
credit hold, and gaps in the law's rate tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from dunning.casework import holds, human_tasks, plans, policies
from dunning.domain.ladder import asked_on, plan_request_ends
from dunning.domain.time import local
from dunning.law import missing_rate_warning
from dunning.messaging import print_queue
from dunning.storage.config import Installation


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
    warnings = [w for k in ("commercial", "non-commercial") if (w := missing_rate_warning(k, today, inst.law_dir))]
    return {
        "date": today.isoformat(),
        "tasks": tasks,
        "plan_requests": plan_requests,
        "letters": letters,
        "holds": on_hold,
        "warnings": warnings,
    }


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


def as_markdown(o: dict) -> str:
    lines = [f"# Daily overview {o['date']}", ""]
    lines += ["## Open tasks", ""]
    lines += [
        f"- {t['kind']} **{t['invoice']}** ({t['debtor']}): {t['step']}, open {t['days_open']} day(s)"
        + (f", also for {', '.join(t['also_for'])}" if t.get("also_for") else "")
        + (f"; {t['responsible'] or 'nobody named'} sorts it out by {t['due_on']}" if t.get("due_on") else "")
        + (" — **overdue**" if t.get("overdue") else "")
        for t in o["tasks"]
    ] or ["_None._"]
    lines += ["", "## Payment plans asked for", ""]
    lines += [
        f"- **{r['invoice']}** ({r['debtor']}): asked on {r['asked_on']}"
        + (f" (call by {r['by']})" if r.get("by") else "")
        + (f"; not agreed, so escalation went on on {r['escalation_waits_until']}" if r["escalation_went_on"]
           else f"; escalation waits until {r['escalation_waits_until']}")
        + f" — agree it with `dunning plan {r['invoice']} --instalment DATE=AMOUNT ...`"
        for r in o.get("plan_requests", [])
    ] or ["_None._"]
    lines += ["", "## Letters to post", ""]
    lines += [
        f"- **{x['invoice']}** {x['step']}, printed {x['printed_on']}"
        + (f" — **not posted for {x['days_waiting']} day(s)**: its run waits; posting it late voids it and "
           "a new one is printed" if x["days_waiting"] else "")
        + f" (`{x['file']}`)"
        for x in o["letters"]
    ] or ["_None._"]
    lines += ["", "## Credit holds", ""]
    lines += [f"- {h['debtor']} {h['name']}, since {h['since']}: {h['reason']}" for h in o["holds"]] or ["_None._"]
    if o["warnings"]:
        lines += ["", "## Warnings", "", *(f"- {w}" for w in o["warnings"])]
    return "\n".join(lines) + "\n"
