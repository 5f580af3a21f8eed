"""``smetsnet duis send`` against a served hub: sign with the user's key from keystore.json, POST
to the endpoint of the command variant, print the verified answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from smetsnet.cli import app
from tests.hub.served import KEYSTORE, Served, served_boxed
from tests.support.vectors import REFERENCE

TEMPLATES = REFERENCE / "duis" / "templates"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with served_boxed() as s:
        yield s


def _send(served: Served, template: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "duis", "send", str(TEMPLATES / template), "--keystore", str(KEYSTORE),
            "--url", served.base_url, *extra,
        ],
    )  # fmt: skip
    return result.exit_code, result.output


def test_a_read_is_acknowledged(served: Served) -> None:
    code, out = _send(served, "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML")
    assert code == 0, out
    assert "serviceS: I99" in out and "<sr:ResponseCode>I99</sr:ResponseCode>" in out


def test_a_critical_request_goes_through_transform_and_send(served: Served) -> None:
    code, out = _send(served, "ECS70_6.11_SUCCESS_REQUEST_DUIS.XML", "--critical")
    assert code == 0, out
    assert "<sr:PreCommand>" in out  # the transform's answer
    assert out.rstrip().endswith("</sr:Response>") and "<sr:ResponseCode>I99<" in out


def test_a_non_device_request_goes_to_service_d(served: Served) -> None:
    code, out = _send(served, "8.2_READ_INVENTORY_REQUEST_DUIS.XML")
    assert code == 0, out
    assert "serviceD: I0" in out


def test_bad_input_names_what_is_wrong(served: Served) -> None:
    code, out = _send(served, "NO_SUCH_TEMPLATE.XML")
    assert code != 0 and "NO_SUCH_TEMPLATE.XML" in out
