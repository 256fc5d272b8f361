"""Who an Open311 request is from: its `api_key`, a credential a district admin issued
(domain/open311_keys.py, api/http/open311_keys.py), never a JWT.

The key is looked up in the event store on every request (GridGovernance.open311_key), so a
revocation is refused from the very next request, with no read model to wait for. A key acts in its
own district only; a rider's key reports as that rider, a service's key only reads.
"""

from __future__ import annotations

from api.http.auth import Principal
from api.http.language import Language
from api.open311.wire import Open311Error
from application.service import GridGovernance
from domain.events import Role
from domain.open311_keys import Open311Holder

MAX_KEY = 200  # far more than any key issued here (g311_ and 43 characters): a longer one is no key of ours

WORDS: dict[str, dict[Language, str]] = {
    "none": {"zh": "缺少 api_key：请向区管理员申请开放接口密钥。",
             "en": "api_key is missing: ask the district's admins for an Open311 key."},
    "unknown": {"zh": "api_key 无效：没有这个开放接口密钥。",
                "en": "api_key is not valid: no such Open311 key was issued."},
    "revoked": {"zh": "这个开放接口密钥（{label}）已被吊销，请向{district}的区管理员申请新密钥。",
                "en": "This Open311 key ({label}) was revoked; ask the admins of {district} for a new one."},
    "elsewhere": {"zh": "这个开放接口密钥属于{district}，不能用于 jurisdiction_id {asked}。",
                  "en": "This Open311 key belongs to {district}; it cannot act for jurisdiction_id {asked}."},
    "reads_only": {"zh": "这个密钥只能读取：它是服务的密钥，不代表任何骑手，不能提交线索。",
                   "en": "This key only reads: it is a service's key, of no rider, and cannot report clues."},
}


def holder(governance: GridGovernance, api_key: str | None, jurisdiction_id: str | None,
           language: Language = "zh") -> Open311Holder:
    """The key's holder, if the key is in force and of the district asked for (none asked: its own)."""
    if not api_key:
        raise Open311Error(403, WORDS["none"][language])
    found = governance.open311_key(api_key) if len(api_key) <= MAX_KEY else None
    if found is None:
        raise Open311Error(403, WORDS["unknown"][language])
    if found.revoked:
        raise Open311Error(403, WORDS["revoked"][language].format(label=found.label, district=found.district))
    if jurisdiction_id and jurisdiction_id != found.district:
        raise Open311Error(403, WORDS["elsewhere"][language].format(district=found.district,
                                                                     asked=jurisdiction_id[:100]))
    return found


def reporter(holder: Open311Holder, language: Language = "zh") -> Principal:
    """Who a request reports as: the key's rider, held to the key's district in what it reads."""
    if holder.rider_id is None:
        raise Open311Error(403, WORDS["reads_only"][language])
    return Principal(sub=str(holder.rider_id), role=Role.RIDER, districts=frozenset({holder.district}))
