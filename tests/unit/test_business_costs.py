"""The policy's business_costs setting: a business's collection costs (BW 6:96 lid 4) charged in the
ingebrekestelling, announced there and claimed once its term has passed, or never claimed. Consumers keep the
14-dagenbrief (6:96 lid 6) whatever the setting. Figures by hand; the rate is the commercial one from 2026-01-01,
10.15% (BW 6:119a), actual/365."""

from datetime import date
from decimal import Decimal

import pytest

from dunning.domain.statement import state_claim
from dunning.messaging.templating import render_email
from dunning.storage.config import Creditor

DUE = date(2026, 1, 31)  # interest from 1 February 2026
LETTER_DAY = date(2026, 3, 10)  # the ingebrekestelling: 37 days of interest
TERM = date(2026, 3, 24)  # its deadline
INCASSO_DAY = date(2026, 4, 1)  # the incasso-aankondiging: 59 days of interest

# Besluit BIK over 6,000.00: 15% of 2,500 + 10% of 2,500 + 5% of 1,000 = 375 + 250 + 50 = 675.00
COSTS = Decimal("675.00")
# 6,000.00 x 10.15% x 37/365 = 22,533 / 365 = 61.734 -> 61.73; x 59/365 = 35,931 / 365 = 98.441 -> 98.44
INTEREST_AT_LETTER, INTEREST_AT_INCASSO = Decimal("61.73"), Decimal("98.44")


def business(today, setting, payments=(), consumer=False):
    return state_claim(consumer=consumer, amount=Decimal("6000.00"), due_date=DUE, payments=payments, today=today,
                       default_notice_deadline=DUE, term_deadline=TERM, business_costs=setting)


def figures(statement):
    return statement.interest, statement.costs, statement.due_now, statement.due_after_term


def test_charge_claims_the_costs_in_the_ingebrekestelling_and_after():
    assert figures(business(LETTER_DAY, "charge")) == (INTEREST_AT_LETTER, COSTS, Decimal("6736.73"),
                                                       Decimal("6736.73"))
    assert figures(business(INCASSO_DAY, "charge")) == (INTEREST_AT_INCASSO, COSTS, Decimal("6773.44"),
                                                        Decimal("6773.44"))


def test_announce_states_the_costs_as_what_follows_the_term_and_claims_them_once_it_has_passed():
    # 6,000.00 + 61.73 now; 6,061.73 + 675.00 = 6,736.73 if the term passes unpaid
    assert figures(business(LETTER_DAY, "announce")) == (INTEREST_AT_LETTER, COSTS, Decimal("6061.73"),
                                                         Decimal("6736.73"))
    # the term's last day: still only announced; the day after, owed
    assert business(TERM, "announce").due_now != business(TERM, "announce").due_after_term
    assert figures(business(INCASSO_DAY, "announce")) == (INTEREST_AT_INCASSO, COSTS, Decimal("6773.44"),
                                                          Decimal("6773.44"))


def test_never_claims_no_costs_at_any_step():
    assert figures(business(LETTER_DAY, "never")) == (INTEREST_AT_LETTER, Decimal("0.00"), Decimal("6061.73"),
                                                      Decimal("6061.73"))
    assert figures(business(INCASSO_DAY, "never")) == (INTEREST_AT_INCASSO, Decimal("0.00"), Decimal("6098.44"),
                                                       Decimal("6098.44"))


def test_a_payment_before_the_costs_are_owed_goes_to_interest_and_principal_and_lowers_the_costs():
    # 1,000.00 paid on 20 March. Interest 1 Feb up to and including 20 March: 48 days, 6,000 x 10.15% x 48/365 =
    # 29,232 / 365 = 80.088 -> 80.09. BW 6:44 under "charge": costs 675.00 first, then 80.09 interest, 244.91
    # principal. Under "announce" and "never" no costs are owed yet: 80.09 interest, 919.91 principal.
    charged = business(INCASSO_DAY, "charge", [(date(2026, 3, 20), Decimal("1000.00"))])
    assert (charged.payments[0].to_costs, charged.payments[0].to_principal) == (COSTS, Decimal("244.91"))
    assert charged.principal == Decimal("5755.09")
    announced = business(INCASSO_DAY, "announce", [(date(2026, 3, 20), Decimal("1000.00"))])
    assert (announced.payments[0].to_costs, announced.payments[0].to_interest) == (Decimal("0.00"), Decimal("80.09"))
    assert announced.principal == Decimal("5080.09")
    # costs over the principal left when the term ends: 375 + 250 + 5% of 80.09 = 629.0045 -> 629.00
    assert announced.costs == Decimal("629.00")
    never = business(INCASSO_DAY, "never", [(date(2026, 3, 20), Decimal("1000.00"))])
    assert (never.principal, never.costs) == (Decimal("5080.09"), Decimal("0.00"))


@pytest.mark.parametrize("setting", ["charge", "announce", "never"])
def test_consumers_get_the_14_dagenbrief_whatever_the_business_setting(setting):
    assert business(LETTER_DAY, setting, consumer=True) == business(LETTER_DAY, "charge", consumer=True)
    assert business(INCASSO_DAY, setting, consumer=True) == business(INCASSO_DAY, "charge", consumer=True)


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="business_costs must be one of charge, announce, never"):
        business(LETTER_DAY, "later")


def context(setting, language):
    invoice = {"number": "F-1", "issue_date": date(2026, 1, 1), "due_date": DUE, "amount": Decimal("6000.00"),
               "open_amount": Decimal("6000.00"), "currency": "EUR", "payment_reference": "RF81 F202 6011 7"}
    creditor = Creditor(name="Bakkerij Jansen B.V.", email="debiteuren@bakkerij-jansen.example")
    return {"debtor": {"name": "Grand Café De Markt B.V.", "number": "D-2", "kind": "business", "street": "Markt 1",
                       "postcode": "1234 AB", "city": "Ons Dorp", "contact_name": None},
            "invoice": invoice, "open_invoices": [invoice], "creditor": creditor,
            "today": LETTER_DAY, "pay_by": TERM, "claim": business(LETTER_DAY, setting)}


@pytest.mark.parametrize(("setting", "language", "says", "never_says"), [
    ("charge", "nl", ["Incassokosten: EUR 675,00", "Totaal: EUR 6.736,73"], ["Betaalt u niet uiterlijk"]),
    ("announce", "nl", ["Totaal: EUR 6.061,73", "Betaalt u niet uiterlijk 24 maart 2026? Dan moet u ook "
                        "incassokosten betalen. Die zijn EUR 675,00", "U betaalt dan in totaal EUR 6.736,73"],
     ["Incassokosten: "]),
    ("never", "nl", ["Totaal: EUR 6.061,73"], ["ncassokosten"]),
    ("announce", "en", ["Total: EUR 6,061.73", "If you do not pay by 24 March 2026, you will also owe collection "
                        "costs of EUR 675.00", "The total would then be EUR 6,736.73"], ["Collection costs: "]),
    ("never", "en", ["Total: EUR 6,061.73"], ["ollection costs"]),
])
def test_the_business_ingebrekestelling_charges_announces_or_leaves_out_the_costs(setting, language, says,
                                                                                   never_says):
    text = " ".join(render_email("ingebrekestelling", language, context(setting, language)).text.split())
    for words in says:
        assert words in text
    for words in never_says:
        assert words not in text
