"""What may be claimed under Dutch law: statutory interest, collection costs, terms, contact windows and
limitation. Pure functions; time is always a parameter; the only I/O is reading the data files in data/
(or an installation's override directory).

The modules here hold the Dutch rules. Another country's rules would sit beside them as their own package
(e.g. `dunning/law/be/` for Boek XIX WER) exposing functions with the same names and meanings, chosen by
the flow per debtor's jurisdiction; until there is a second country no registry or interface class is
needed.
"""

from dunning.law.claim import AppliedPayment, Claim, CostShare, Payment, compute_claim, costs_over
from dunning.law.contact import may_contact, next_contact_moment
from dunning.law.costs import collection_costs, combined_collection_costs
from dunning.law.datafiles import DataFileError
from dunning.law.holidays import (
    DeclaredDay,
    atw_holidays,
    declared_days,
    easter_sunday,
    is_atw_holiday,
    is_atw_rest_day,
    unverified_declared_days,
)
from dunning.law.interest import Period, commercial_interest_start
from dunning.law.limitation import limitation_date
from dunning.law.rates import (
    CONFIRMATIONS_FILE,
    CONFIRMATIONS_HEADER,
    Confirmation,
    MissingRateError,
    Rate,
    describe_row,
    load_confirmations,
    load_rates,
    missing_rate_warning,
    rate_table_warnings,
    rates_holding,
    unconfirmed,
)
from dunning.law.terms import Term, fourteen_day_term, term_expired

__all__ = [
    "CONFIRMATIONS_FILE",
    "CONFIRMATIONS_HEADER",
    "AppliedPayment",
    "Claim",
    "Confirmation",
    "CostShare",
    "DataFileError",
    "DeclaredDay",
    "MissingRateError",
    "Payment",
    "Period",
    "Rate",
    "Term",
    "atw_holidays",
    "collection_costs",
    "combined_collection_costs",
    "commercial_interest_start",
    "compute_claim",
    "costs_over",
    "declared_days",
    "describe_row",
    "easter_sunday",
    "fourteen_day_term",
    "is_atw_holiday",
    "is_atw_rest_day",
    "limitation_date",
    "load_confirmations",
    "load_rates",
    "may_contact",
    "missing_rate_warning",
    "next_contact_moment",
    "rate_table_warnings",
    "rates_holding",
    "term_expired",
    "unconfirmed",
    "unverified_declared_days",
]
