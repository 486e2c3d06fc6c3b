"""What becomes a file name (an invoice number, an outbox key) is a safe slug, and every path stays inside its
folder: an invoice numbered `../../../../x` never puts a letter, an invoice copy or an agency file outside
DUNNING_HOME (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning.domain.errors import UserError
from dunning.messaging import print_queue
from dunning.storage.config import Installation
from dunning.storage.files import inside, slug
from dunning.storage.models import OutboxMessage


@pytest.mark.parametrize("plain", ["F-1", "2026-0042", "F2026_101", "INV.7"])
def test_a_plain_name_stays_as_it_is(plain):
    assert slug(plain) == plain


@pytest.mark.parametrize("hostile", ["../../../../x", "/etc/passwd", "F/1", "..", ".", "", "a\x00b", "C:\\x",
                                     "€ 12", "x" * 300, " F-1", ".hidden"])
def test_anything_else_becomes_one_safe_name_of_its_own(hostile):
    name = slug(hostile)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    assert len(name) <= 110
    assert slug(hostile) == name, "the same text, the same file"


def test_two_numbers_that_differ_never_share_a_file():
    assert len({slug(n) for n in ["F/1", "F-1", "F:1", "F 1", "F--1"]}) == 5


def test_a_path_that_leaves_its_folder_is_refused(tmp_path):
    assert inside(tmp_path, "a.pdf") == tmp_path / "a.pdf"
    for name in ["../a.pdf", "/tmp/a.pdf", "..", "sub/../../a.pdf"]:
        with pytest.raises(UserError, match="not a file name inside"):
            inside(tmp_path, name)


def test_a_letter_of_a_hostile_invoice_number_stays_in_its_days_folder(tmp_path):
    inst = Installation(home=tmp_path, database_url="sqlite://")
    letter = OutboxMessage(key="../../../../x:herinnering:letter:1", data={"printed_on": "2026-01-09"})
    path = print_queue.file_for(inst, letter)
    assert path.parent == tmp_path / "letters" / "2026-01-09"
    assert path.name.startswith("x_herinnering_letter_1-") and path.suffix == ".pdf"
    normal = OutboxMessage(key="F-1:herinnering:letter:1", data={"printed_on": "2026-01-09"})
    assert print_queue.file_for(inst, normal).name == "F-1_herinnering_letter_1.pdf"


def test_an_invoice_copy_of_a_hostile_number_stays_in_the_invoices_folder(tmp_path):
    inst = Installation(home=tmp_path, database_url="sqlite://")
    assert inst.invoice_copy("../../../../x").parent == tmp_path / "invoices"
    assert inst.invoice_copy("F-1") == tmp_path / "invoices" / "F-1.pdf"
    assert Path(inst.invoice_copy("F/1")).name != Path(inst.invoice_copy("F-1")).name
