"""The inbound endpoint: records handled on the platform (notice 三) arrive signed, once, validated,
and are stored as verified platform-originated records; refusals are clear, in Chinese, and store
nothing; a record contradicting one entered here becomes a conflict, never an overwrite."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from projects import services as ps
from projects import workflow
from projects.models import ConstructionPermit, Origin, Project, ProjectParty, State, TenderContract
from review import jurisdiction
from sync import protocol, signing
from sync.models import InboundItem, InboundRecord, InboundRequest, SyncConflict
from sync.services import conflict_resolve
from tests import factories as f
from tests.sync.conftest import SYNC_SECRET
from yunjian.core.models import AuditEntry, Organization
from yunjian.core.validators import complete_credit_code

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
PRJ_NUM = "5303022105060001"
BUILD_CORP = complete_credit_code("9153030000000011")
WORK_CORP = complete_credit_code("9153030200000012")
SUPER_CORP = complete_credit_code("9153030200000013")
BUREAU_CORP = complete_credit_code("1153030200000014")


def project_item(prj_num: str = PRJ_NUM, version: int = 1, **data) -> protocol.Item:
    payload = {
        "PrjNum": prj_num,
        "PrjName": "曲靖市麒麟区平台办理的综合楼",
        "PrjTypeNum": "01",
        "PrjFunctionNum": "301",
        "BuildCorpName": "曲靖市某建设单位",
        "BuildCorpCode": BUILD_CORP,
        "ProvinceNum": "530000",
        "CityNum": "530300",
        "CountyNum": "530302",
        "AllInvest": "2300.5",
        "BDate": "2021-05-10",
        **data,
    }
    key = f"platform-project:{prj_num}"
    return protocol.make_item(f"{key}:v{version}", protocol.TB_PROJECT, key, version, payload)


def permit_item(prj_num: str = PRJ_NUM, number: str = f"{PRJ_NUM}-SX-001", version: int = 1, **data):
    payload = {
        "PrjNum": prj_num,
        "BuilderLicenceNum": number,
        "ReleaseDate": "2021-05-01",
        "ConsCorpName": "平台上的施工总承包公司",
        "ConsCorpCode": WORK_CORP,
        "SuperCorpName": "平台上的监理公司",
        "SuperCorpCode": SUPER_CORP,
        "IssueOrgName": "曲靖市麒麟区住房和城乡建设局",
        "IssueOrgCode": BUREAU_CORP,
        "ContractMoney": "2100",
        "Area": "12000",
        "ConstructorName": "周经理",
        **data,
    }
    key = f"platform-permit:{number}"
    return protocol.make_item(f"{key}:v{version}", protocol.TB_PERMIT, key, version, payload)


def tender_item(prj_num: str = PRJ_NUM, **data):
    payload = {
        "PrjNum": prj_num,
        "TenderNum": f"{prj_num}-BD-001",
        "TenderClassNum": "003",
        "TenderTypeNum": "001",
        "TenderResultDate": "2021-03-01",
        "TenderMoney": "2100",
        "TenderCorpName": "平台上的施工总承包公司",
        "TenderCorpCode": WORK_CORP,
        "AgencyCorpName": "某招标代理公司",
        **data,
    }
    key = f"platform-tender:{payload['TenderNum']}"
    return protocol.make_item(f"{key}:v1", protocol.TB_TENDER, key, 1, payload)


def contract_item(prj_num: str = PRJ_NUM, **data):
    payload = {
        "PrjNum": prj_num,
        "TenderNum": f"{prj_num}-BD-001",
        "ContractNum": "QJ-HT-2021-007",
        "ContractTypeNum": "301",
        "ContractMoney": "2100",
        "ContractDate": "2021-03-20",
        "PropietorCorpName": "曲靖市某建设单位",
        "PropietorCorpCode": BUILD_CORP,
        "ContractorCorpName": "平台上的施工总承包公司",
        "ContractorCorpCode": WORK_CORP,
        **data,
    }
    key = f"platform-contract:{payload['ContractNum']}"
    return protocol.make_item(f"{key}:v1", protocol.TB_CONTRACT, key, 1, payload)


def envelope(items, sender: str = protocol.SENDER_PLATFORM) -> bytes:
    return protocol.build_envelope(items, sender=sender)


def post(client, body: bytes, secret: str = SYNC_SECRET, headers: dict | None = None, **kwargs):
    headers = headers if headers is not None else signing.signed_headers(secret, body, **kwargs)
    extra = {k: v for k, v in headers.items() if k != "Content-Type"}
    return client.post(reverse("sync:inbound"), data=body, content_type=signing.CONTENT_TYPE, headers=extra)


@pytest.fixture
def inbound(settings, world):
    settings.SYNC_INBOUND_SECRET = SYNC_SECRET
    return settings


def receipts_of(response) -> list[dict]:
    assert response.status_code == 200, response.content.decode()
    return response.json()["receipts"]


def nothing_stored() -> None:
    assert not Project.objects.filter(prj_num=PRJ_NUM).exists()
    assert not InboundItem.objects.exists()
    assert not InboundRecord.objects.exists()


# --- stored as verified, platform-originated records ------------------------------------------


def test_platform_records_are_stored_approved_and_platform_originated(client, inbound):
    items = [project_item(), permit_item(), tender_item(), contract_item()]
    result = receipts_of(post(client, envelope(items)))
    assert [r["status"] for r in result] == ["accepted"] * 4, result

    project = Project.objects.get(prj_num=PRJ_NUM)
    assert project.origin == Origin.PLATFORM
    assert project.platform_synced_at is not None
    assert project.owner_org.credit_code == BUILD_CORP
    assert project.total_investment == Decimal("2300.5")

    permit = ConstructionPermit.objects.get(permit_num=f"{PRJ_NUM}-SX-001")
    assert (permit.state, permit.origin, permit.entered_by_id) == (State.APPROVED, Origin.PLATFORM, None)
    assert permit.owner_org.credit_code == WORK_CORP
    assert permit.issuing_org.credit_code == BUREAU_CORP
    assert permit.issuing_division_id == "530302"
    assert permit.issue_date.isoformat() == "2021-05-01"

    # The tender and the contract registration are one record here, matched by TenderNum.
    contract = TenderContract.objects.get(project=project)
    assert (contract.state, contract.origin) == (State.APPROVED, Origin.PLATFORM)
    assert (contract.tender_num, contract.contract_num) == (f"{PRJ_NUM}-BD-001", "QJ-HT-2021-007")
    assert contract.contract_amount == Decimal("2100")

    # Platform organizations are mapped by credit code, created with the kind of their role.
    builder = Organization.objects.get(credit_code=WORK_CORP)
    assert builder.has_kind(Organization.Kind.GENERAL_CONTRACTOR)
    assert Organization.objects.get(credit_code=SUPER_CORP).has_kind(Organization.Kind.SUPERVISION)
    assert Organization.objects.get(credit_code=BUREAU_CORP).has_kind(Organization.Kind.HOUSING_BUREAU)
    assert ProjectParty.objects.filter(
        project=project, organization=builder, role=ProjectParty.Role.GENERAL_CONTRACTOR
    ).exists()
    assert InboundRecord.objects.count() == 4
    stored = AuditEntry.objects.filter(action=AuditEntry.Action.SYNC, data__direction="inbound")
    assert stored.count() == 4


def test_enterprises_then_add_the_drawing_review_reviewed_where_the_project_is(
    client, inbound, world, reviewer
):
    receipts_of(post(client, envelope([project_item()])))
    project = Project.objects.get(prj_num=PRJ_NUM)
    designer = f.make_user("dan_design", world["design"], "enterprise")
    review = ps.drawing_review_create(
        actor=designer,
        project_id=project.pk,
        data={
            "censor_num": f"{PRJ_NUM}-TX-001",
            "censor_org": world["institution"],
            "censor_date": "2021-04-01",
            **f.review_completion(),
        },
    )

    review = ps.record_submit(actor=designer, kind=review.KIND, record_id=review.pk)
    step = workflow.current_step(review)
    assert step.stage
    assert jurisdiction.post_of(review, step).division_code == "530302"
    assert jurisdiction.can_decide(reviewer, review)  # 曲靖 reviewer: housing department where the project is
    review = f.approve(review, reviewer)
    # Approved here, it goes to the platform on its own: the platform knows the project already.
    from sync.models import Outbox

    assert list(Outbox.objects.values_list("table", flat=True)) == [protocol.TB_CENSOR]


def test_same_key_twice_is_a_duplicate_and_older_versions_are_stale(client, inbound):
    first = project_item(version=2)
    assert receipts_of(post(client, envelope([first])))[0]["status"] == "accepted"
    assert receipts_of(post(client, envelope([first])))[0]["status"] == "duplicate"
    older = project_item(version=1, PrjName="旧名称")
    assert receipts_of(post(client, envelope([older])))[0]["status"] == "stale"
    newer = project_item(version=3, PrjName="平台更新后的名称")
    assert receipts_of(post(client, envelope([newer])))[0]["status"] == "accepted"
    assert Project.objects.get(prj_num=PRJ_NUM).name == "平台更新后的名称"
    assert InboundRecord.objects.get().version == 3


def test_a_rejected_item_names_its_fields_and_the_rest_of_the_batch_goes_in(client, inbound):
    bad = permit_item(ConsCorpCode="91530300MA6K0000O1", ReleaseDate="2021/05/01")
    result = receipts_of(post(client, envelope([project_item(), bad])))
    assert [r["status"] for r in result] == ["accepted", "rejected"]
    assert {e["field"] for e in result[1]["errors"]} == {"ConsCorpCode", "ReleaseDate"}
    assert all(CJK.search(e["message"]) for e in result[1]["errors"])
    assert not ConstructionPermit.objects.exists()
    # Fixed and sent again under the same key: a rejection is not final.
    fixed = permit_item()
    fixed["idempotency_key"] = bad["idempotency_key"]
    assert receipts_of(post(client, envelope([fixed])))[0]["status"] == "accepted"


def test_a_child_of_an_unknown_project_and_a_table_we_do_not_take_are_rejected(client, inbound):
    orphan = permit_item(prj_num="5303022105060002", number="5303022105060002-SX-001")
    finish = protocol.make_item("f:v1", protocol.TB_FINISH, "f", 1, {"PrjNum": PRJ_NUM})
    result = receipts_of(post(client, envelope([orphan, project_item(), finish])))
    assert [r["status"] for r in result] == ["rejected", "accepted", "rejected"]
    assert "项目编号未在平台登记" in result[0]["errors"][0]["message"]
    assert "由企业在本系统补充录入" in result[2]["errors"][0]["message"]


# --- refused: nothing stored ------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_nothing_is_stored(client, inbound):
    body = envelope([project_item()])
    wrong = post(client, body, secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "签名无效"
    unsigned = post(client, body, headers={})
    assert unsigned.status_code == 401
    assert "缺少签名" in unsigned.json()["error"]
    stale = post(client, body, now=time.time() - 3600)
    assert stale.status_code == 401
    assert "时间戳超出允许范围" in stale.json()["error"]
    nothing_stored()
    assert not InboundRequest.objects.exists()


def test_a_replayed_request_is_refused_even_by_another_process(client, inbound):
    body = envelope([project_item()])
    headers = signing.signed_headers(SYNC_SECRET, body)
    assert post(client, body, headers=headers).status_code == 200
    replay = post(client, body, headers=headers)
    assert replay.status_code == 401
    assert "重复的请求" in replay.json()["error"]
    # The guard is the database table, not process memory: every app server shares it and a
    # restart forgets nothing.
    assert InboundRequest.objects.filter(signature=headers[signing.SIGNATURE_HEADER]).exists()
    # The same request id re-signed later is a replay too.
    resigned = post(client, body)
    assert resigned.status_code == 401
    assert InboundItem.objects.count() == 1


def test_seen_signatures_expire_with_their_timestamp_window(client, inbound):
    from datetime import timedelta

    from django.utils import timezone

    from sync.services import inbound_prune_replays

    assert post(client, envelope([project_item()])).status_code == 200
    InboundRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert inbound_prune_replays() == 1
    assert not InboundRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "不是有效的 JSON"),
        (b'{"schema_version": "9", "sender": "platform", "items": []}', "schema_version"),
        (
            b'{"schema_version": "1", "sender": "platform", "items": [{"table": "TBNope"}]}',
            "第1条记录格式不正确",
        ),
    ],
)
def test_a_malformed_request_is_refused_and_nothing_is_stored(client, inbound, body, expected):
    response = post(client, body)
    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert CJK.search(response.json()["error"])
    nothing_stored()


def test_only_the_platform_may_send(client, inbound):
    response = post(client, envelope([project_item()], sender=protocol.SENDER_YUNJIAN))
    assert response.status_code == 400
    assert "发送方应为省一体化平台" in response.json()["error"]
    nothing_stored()


def test_an_oversized_request_is_refused_before_it_is_read(client, inbound):
    inbound.SYNC_INBOUND_MAX_BODY = 4096
    body = envelope([project_item(PrjSize="大" * 3000)])
    response = post(client, body)
    assert response.status_code == 413
    assert "请求体过大" in response.json()["error"]
    nothing_stored()


def test_an_unexpected_error_answers_json_and_stores_nothing(client, inbound, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("数据库暂时不可用")

    monkeypatch.setattr("sync.inbound.apply_item", broken)
    response = post(client, envelope([project_item()]))
    assert response.status_code == 500
    assert "未保存任何记录" in response.json()["error"]
    nothing_stored()


def test_the_endpoint_takes_posts_only_and_no_session(client, inbound, province_admin):
    assert client.get(reverse("sync:inbound")).status_code == 405
    client.force_login(province_admin)  # a session does not stand in for the signature
    assert post(client, envelope([project_item()]), headers={}).status_code == 401


# --- conflicts with records entered here ------------------------------------------------------


@pytest.fixture
def our_permit(project, approved_review, contractor, world, county_permit_reviewer):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    return f.approve(permit, county_permit_reviewer)


def test_a_conflicting_permit_is_flagged_not_overwritten(client, inbound, our_permit, project):
    before = ConstructionPermit.objects.get(pk=our_permit.pk)
    theirs = permit_item(
        prj_num=project.prj_num, number=our_permit.permit_num, ContractMoney="8888", ReleaseDate="2020-06-01"
    )
    result = receipts_of(post(client, envelope([theirs])))
    assert result[0]["status"] == "accepted"  # taken into custody; the platform need not resend
    assert {e["field"] for e in result[0]["errors"]} >= {"ContractMoney", "ReleaseDate"}
    conflict = SyncConflict.objects.get()
    assert conflict.status == SyncConflict.Status.OPEN
    assert (conflict.local_kind, conflict.local_id) == ("permit", our_permit.pk)
    assert conflict.ours["ContractMoney"] == "1000"
    assert conflict.theirs["ContractMoney"] == "8888"
    after = ConstructionPermit.objects.get(pk=our_permit.pk)
    assert (after.contract_amount, after.issue_date, after.origin) == (
        before.contract_amount,
        before.issue_date,
        before.origin,
    )
    assert InboundItem.objects.get().status == InboundItem.Status.CONFLICT
    assert not InboundRecord.objects.exists()
    # The same key again is a duplicate: still one conflict.
    assert receipts_of(post(client, envelope([theirs])))[0]["status"] == "duplicate"
    assert SyncConflict.objects.count() == 1


def test_a_platform_permit_with_the_same_facts_is_linked_not_flagged(
    client, inbound, our_permit, project, world
):
    same = permit_item(
        prj_num=project.prj_num,
        number=our_permit.permit_num,
        ReleaseDate=our_permit.issue_date.isoformat(),
        ContractMoney="1000.0000",
        ConsCorpCode=world["builder"].credit_code,
        SuperCorpCode="",
        Area="",
    )
    assert receipts_of(post(client, envelope([same])))[0]["status"] == "accepted"
    assert not SyncConflict.objects.exists()
    assert InboundRecord.objects.get().local_id == our_permit.pk
    assert ConstructionPermit.objects.get(pk=our_permit.pk).origin == Origin.ENTERED


def test_resolving_keep_ours_or_accept_theirs_is_audited(
    client, inbound, our_permit, project, province_admin, contractor
):
    theirs = permit_item(prj_num=project.prj_num, number=our_permit.permit_num, ContractMoney="8888")
    receipts_of(post(client, envelope([theirs])))
    conflict = SyncConflict.objects.get()
    with pytest.raises(Exception, match="系统管理员"):
        conflict_resolve(actor=contractor, conflict_id=conflict.pk, accept_theirs=True)
    conflict_resolve(
        actor=province_admin, conflict_id=conflict.pk, accept_theirs=True, note="已核实，以平台为准"
    )
    permit = ConstructionPermit.objects.get(pk=our_permit.pk)
    assert permit.contract_amount == Decimal("8888")
    assert InboundRecord.objects.get().local_id == permit.pk
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolved_by) == (SyncConflict.Status.ACCEPTED_THEIRS, province_admin)
    entry = AuditEntry.objects.filter(object_type="syncconflict", actor=province_admin).get()
    assert (entry.from_state, entry.to_state, entry.reason) == (
        "open",
        "accepted_theirs",
        "已核实，以平台为准",
    )
    with pytest.raises(Exception, match="已处理"):
        conflict_resolve(actor=province_admin, conflict_id=conflict.pk, accept_theirs=False)


def test_a_conflicting_project_keeps_ours(client, inbound, project, province_admin):
    theirs = project_item(
        prj_num=project.prj_num, PrjName="平台上的另一个名称", BuildCorpCode=project.owner_org.credit_code
    )
    receipts_of(post(client, envelope([theirs])))
    conflict = SyncConflict.objects.get()
    assert conflict.fields == ["PrjName"]
    conflict_resolve(actor=province_admin, conflict_id=conflict.pk, accept_theirs=False)
    assert Project.objects.get(pk=project.pk).name == project.name
    assert SyncConflict.objects.get().status == SyncConflict.Status.KEPT_OURS


def test_push_cli_over_real_http(live_server, settings, world, tmp_path):
    """The reference platform's push command, over HTTP, to the running app."""
    from sync.receiver.push import push

    settings.SYNC_INBOUND_SECRET = SYNC_SECRET
    status, payload = push(
        live_server.url + reverse("sync:inbound"), SYNC_SECRET, [project_item(), permit_item()]
    )
    assert status == 200, payload
    assert [r["status"] for r in payload["receipts"]] == ["accepted", "accepted"]
    status, payload = push(live_server.url + reverse("sync:inbound"), "wrong", [project_item()])
    assert (status, payload["error"]) == (401, "签名无效")


def _raw_envelope(item_json: str) -> bytes:
    return ('{"schema_version": "1", "sender": "platform", "items": [' + item_json + "]}").encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "嵌套层数过多", id="deeply-nested"),
        pytest.param(_raw_envelope('{"x": ' + "[" * 50 + "]" * 50 + "}"), "嵌套层数过多", id="nested-50"),
        pytest.param(envelope([project_item(PrjName="名称\u0000尾")]), "NUL", id="nul-in-value"),
        pytest.param(_raw_envelope('{"table\\u0000": 1}'), "NUL", id="nul-in-key"),
        pytest.param(
            envelope([project_item()]).replace(b'"items"', b'"n": 1e400, "items"'), "数值超出范围", id="1e400"
        ),
        pytest.param(envelope([project_item()]).replace(b'"items"', b'"n": NaN, "items"'), "NaN", id="nan"),
        pytest.param(
            envelope([project_item()]).replace(b'"items"', b'"n": ' + b"9" * 5000 + b', "items"'),
            "",
            id="huge-integer",
        ),
    ],
)
def test_hostile_json_is_a_400_and_stores_nothing(client, inbound, body, expected):
    response = post(client, body)
    assert response.status_code == 400, response.content.decode()
    assert expected in response.json()["error"]
    assert CJK.search(response.json()["error"])
    nothing_stored()
