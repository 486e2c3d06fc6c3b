"""The operator's policy file: named policies per debtor, validated with errors that name file and setting."""

from datetime import time

import pytest

from dunning.casework.policies import load, policy_for
from dunning.domain.errors import UserError
from dunning.domain.policy import DEFAULT


def write(tmp_path, text: str):
    (tmp_path / "policies.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_without_a_file_everyone_has_the_built_in_default(tmp_path):
    assert policy_for(tmp_path, "DEB-1") == DEFAULT


def test_named_policies_start_from_the_files_default_and_apply_per_debtor(tmp_path):
    home = write(tmp_path, """
[default]
grace_days = 5

[policy.patient]
call_attempts = 2
working_hour = "10:30"

[debtors]
"DEB-2" = "patient"
""")
    assert policy_for(home, "DEB-1").grace_days == 5
    patient = policy_for(home, "DEB-2")
    assert (patient.grace_days, patient.call_attempts, patient.working_hour) == (5, 2, time(10, 30))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[default]\ngrace_days = -1", "default.grace_days: must be a whole number from 0 to 365, not -1"),
        ("[default]\ngrace_dayz = 1", "default.grace_dayz: unknown setting"),
        ("[policy.x]\nworking_hour = \"9 uur\"", "policy.x.working_hour: must be a time of day like \"09:00\""),
        ("[policy.x]\nhold_after = \"incasso\"", "policy.x.hold_after: must be one of herinnering, aanmaning"),
        ("[default]\napprovals = [\"herinnering\"]", "default.approvals: must be a list of steps from "
         "ingebrekestelling, incasso, not ['herinnering']"),
        ("[debtors]\n\"DEB-1\" = \"strict\"", "debtors.DEB-1: unknown policy 'strict' (known: none defined)"),
        ("[defaults]\n", "unknown section [defaults]"),
        ("[default\n", "policies.toml: "),
    ],
)
def test_a_mistake_in_the_file_is_named_with_its_setting(tmp_path, text, message):
    with pytest.raises(UserError) as e:
        load(write(tmp_path, text))
    assert str(e.value).startswith(str(tmp_path / "policies.toml"))
    assert message in str(e.value)


def test_a_policy_says_which_steps_go_by_post(tmp_path):
    home = write(tmp_path, "[default]\nby_post = [\"aanmaning\", \"ingebrekestelling\"]\n")
    assert policy_for(home, "DEB-1").by_post == ("aanmaning", "ingebrekestelling")
    with pytest.raises(UserError, match="default.by_post: must be a list of steps"):
        load(write(tmp_path, "[default]\nby_post = \"ingebrekestelling\"\n"))


def test_approvals_can_be_switched_off_per_policy(tmp_path):
    home = write(tmp_path, "[policy.trusted]\napprovals = [\"incasso\"]\n[debtors]\n\"DEB-9\" = \"trusted\"\n")
    assert policy_for(home, "DEB-9").approvals == ("incasso",)
    assert policy_for(home, "DEB-1").approvals == ("ingebrekestelling", "incasso")


def test_business_costs_are_charged_unless_a_policy_announces_them_first_or_never_claims_them(tmp_path):
    home = write(tmp_path, "[policy.mild]\nbusiness_costs = \"announce\"\n[policy.none]\nbusiness_costs = \"never\"\n"
                           "[debtors]\n\"DEB-2\" = \"mild\"\n\"DEB-3\" = \"none\"\n")
    assert [policy_for(home, d).business_costs for d in ("DEB-1", "DEB-2", "DEB-3")] == ["charge", "announce", "never"]
    with pytest.raises(UserError, match='default.business_costs: must be one of "charge", "announce", "never", '
                                        "not 'later'"):
        load(write(tmp_path, "[default]\nbusiness_costs = \"later\"\n"))
