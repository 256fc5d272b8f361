"""The words of a problem in the caller's language: `Accept-Language` picks zh-CN
or English (RFC 9110 §12.5.4 quality values; no header or no match: English, the
language programs are written against). The problem `type` never changes with it.

Each code has an English title, a Chinese title and a Chinese detail. The English
detail is the domain's own message, which names the things involved; the Chinese
detail says the same in the words a grid officer or rider uses, and the facts
beside it (`facts`) carry the specifics.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]

# code: (English title, Chinese title, Chinese detail)
TEXTS: dict[str, tuple[str, str, str]] = {
    # the four families, for an error that declares no code of its own
    "domain-error": ("Refused", "操作被拒绝", "该操作不符合规则，未被执行。"),
    "not-found": ("Not found", "未找到", "要找的对象不存在。"),
    "conflict": ("Conflict", "状态冲突", "对象当前的状态不允许此操作。"),
    "invalid": ("Invalid", "输入无效", "输入不符合要求。"),
    "forbidden": ("Forbidden", "无权操作", "当前身份不能执行此操作。"),
    # domain refusals (domain/errors.py)
    "grid-not-found": ("Grid not found", "网格不存在", "找不到该网格，请检查网格编号。"),
    "rider-not-found": ("Rider not found", "骑手不存在", "找不到该骑手，请检查骑手编号。"),
    "clue-not-found": ("Clue not found", "线索不存在", "找不到该线索，或它不在您的管辖范围内。"),
    "task-not-found": ("Task not found", "任务不存在", "找不到该任务，请检查任务编号。"),
    "appeal-not-found": ("Appeal not found", "申诉不存在", "找不到该申诉，或它不在您的管辖范围内。"),
    "award-not-found": ("Award not found", "补贴记录不存在", "找不到该件补贴，或它不在您的管辖范围内。"),
    "no-rate-in-effect": ("No rate in effect", "没有生效的计件单价", "该区当时没有生效的计件单价表，请先发布单价表。"),
    "station-not-found": ("Station not found", "驿站不存在", "找不到该骑手驿站，或它不在您的管辖范围内。"),
    "partner-not-found": ("Partner not found", "合作商户不存在", "找不到该合作商户，或它不在您的管辖范围内。"),
    "item-not-found": ("Item not found", "兑换商品不存在", "积分商城中找不到该商品，请检查商品编号。"),
    "redemption-not-found": ("Redemption not found", "兑换记录不存在", "找不到该兑换记录，或它不在您的管辖范围内。"),
    "photo-store-unavailable": ("Photo store unavailable", "照片存储暂不可用", "照片存储暂时无法访问，照片未保存或暂时无法读取，请稍后再试。"),
    "store-unavailable": ("Store unavailable", "数据库暂不可用",
                          "数据库暂时无法连接（可能正在切换到备用库），请稍后用同一个幂等键重新提交；已受理的操作不会重复执行。"),
    "photo-not-found": ("Photo not found", "照片不存在", "找不到该照片，或它不在您的管辖范围内。"),
    "open311-key-not-found": ("Open311 key not found", "开放接口密钥不存在", "找不到该开放接口密钥，或它不属于您管辖的区。"),
    "photo-erased": ("Photo erased", "照片已删除", "该照片已随骑手的个人信息一并删除，无法再查看；日志中仍保留它的哈希值。"),
    "photo-of-another": ("Photo of another rider", "照片属于其他骑手", "这张照片已由其他骑手上传，请拍摄您自己的照片。"),
    "photo-is-evidence": ("Photo is evidence", "照片已作为证据", "该照片已被线索或任务引用，不会被清理。"),
    "not-a-photo": ("Not a photo", "不是照片", "上传的文件不是 JPEG、PNG 或 WebP 图片，或已损坏（按文件内容判断，与文件名无关）。"),
    "too-many-pixels": ("Too many pixels", "照片像素过多", "照片像素不能超过 4000 万，请用相机的普通模式重新拍摄。"),
    "evidence-not-uploaded": ("Evidence not uploaded", "证据照片未上传", "证据只能是您本人上传过的照片：请先上传照片，再提交。"),
    "task-already-claimed": ("Task already claimed", "任务已被认领", "该任务已被其他骑手认领。"),
    "task-not-open": ("Task not open", "任务不可认领", "该任务当前不是待认领状态。"),
    "task-not-awaiting-verification": ("Task not awaiting verification", "任务不在待核验状态",
                                       "只有已提交完成、等待核验的任务才能核验或驳回。"),
    "clue-already-triaged": ("Clue already triaged", "线索已处理", "该线索已被受理、驳回或标为重复。"),
    "grid-retired": ("Grid retired", "网格已撤销", "该网格已撤销，不能再在其中操作。"),
    "rider-suspended": ("Rider suspended", "骑手已被暂停", "该骑手已被暂停，暂不能上报、认领或领取补贴。"),
    "already-registered": ("Already registered", "已登记", "该对象已经登记过。"),
    "already-member": ("Already a member", "已在网格中", "该骑手已加入这个网格。"),
    "award-already-reversed": ("Award already reversed", "补贴已冲销", "这件补贴已经冲销过。"),
    "award-already-reinstated": ("Award already reinstated", "补贴已恢复", "这件补贴已经恢复过。"),
    "award-not-reversed": ("Award not reversed", "补贴未冲销", "这件补贴没有被冲销，无需恢复。"),
    "piece-already-awarded": ("Piece already awarded", "该件已发放补贴", "同一件工作只发放一次补贴。"),
    "batch-already-settled": ("Batch already settled", "批次已结算", "该结算批次已经处理过。"),
    "insufficient-balance": ("Insufficient balance", "余额不足", "补贴余额不足以支付这笔金额。"),
    "insufficient-budget": ("Insufficient budget", "预算不足", "本月预算余额不足以支付这项补救，请先追加预算（差额见详情）。"),
    "insufficient-points": ("Insufficient points", "积分不足", "可用积分不足以兑换。"),
    "station-closed": ("Station closed", "驿站已关闭", "该驿站已关闭，不能再修改或关闭。"),
    "item-not-offered": ("Item not offered", "商品暂不可兑换", "该商品已下架，或不在可兑换的日期内。"),
    "out-of-stock": ("Out of stock", "商品已兑完", "该商品库存已全部兑出或被占用，请稍后再看。"),
    "redemption-not-held": ("Redemption not held", "兑换已办结", "该兑换已领取、被拒绝或已过期；兑换码只能核销一次。"),
    "hold-expired": ("Hold expired", "兑换已超时", "领取时限已过，积分和库存将退回，请重新兑换。"),
    "redemption-locked": ("Redemption locked", "兑换已锁定", "兑换码输错次数过多，已锁定；请骑手在“我的兑换”中获取新的兑换码。"),
    "partner-locked-for-today": ("Partner locked for today", "今日核销已锁定",
                                 "今天输错兑换码的次数过多，今日不能再核销兑换，明天自动恢复。"),
    "hold-not-expired": ("Hold not expired", "兑换尚未超时", "领取时限还没到，不能按过期处理。"),
    "open311-key-already-revoked": ("Open311 key already revoked", "开放接口密钥已吊销", "该开放接口密钥已经吊销，无需再次吊销。"),
    "appeal-already-decided": ("Appeal already decided", "申诉已裁决", "该申诉已有裁决结果。"),
    "personal-data-already-erased": ("Personal data already erased", "个人信息已删除", "该骑手的个人信息已经删除。"),
    "concurrency-conflict": ("Concurrency conflict", "并发冲突", "同一对象正被他人同时修改，请稍后重试。"),
    "idempotency-key-reused": ("Idempotency key reused", "幂等键被重复使用",
                               "同一个幂等键已用于另一条不同的指令；新指令请用新的键。"),
    "invalid-amount": ("Invalid amount", "金额无效", "金额必须是正整数（单位：分）。"),
    "invalid-input": ("Invalid input", "输入无效", "输入不符合要求，请检查后重试。"),
    "schedule-in-the-past": ("Schedule dated in the past", "生效时间已过",
                             "新单价表的生效时间不能早于现在：此前的补贴已按原单价表发放。请选择现在或以后的时间。"),
    "unknown-rate-code": ("Unknown rate code", "未知的计件类别", "单价表中没有这个计件类别。"),
    "claim-expired": ("Claim expired", "认领已过期", "认领时限已过，任务已重新开放。"),
    "wrong-redemption-code": ("Wrong redemption code", "兑换码错误", "兑换码与该兑换不符，请核对骑手出示的六位数字；连续输错将锁定。"),
    "unknown-redemption-code": ("Unknown redemption code", "兑换码错误",
                                "没有等待领取的兑换与这个兑换码相符，请核对骑手出示的六位数字；今天输错过多将暂停核销。"),
    "redemption-code-ambiguous": ("Redemption code ambiguous", "兑换码重复",
                                  "有两份等待领取的兑换兑换码相同，请在列表中选择要核销的那一份。"),
    "rider-not-in-district": ("Rider not in this district", "骑手不在本区", "骑手的开放接口密钥只能签发在骑手有网格的区：该骑手在本区没有网格。"),
    "amount-too-large": ("Amount too large", "金额过大", "金额或累计金额超出账本可记录的范围。"),
    "invalid-boundary": ("Invalid boundary", "边界无效",
                         "边界须是一条首尾相接的闭合折线：至少四个坐标点，经纬度在有效范围内，不自相交，面积不为零。"),
    "boundary-outside-district": ("Boundary outside the district", "边界超出所在区",
                                  "网格边界须在所在区的边界之内；区的边界须包含本区所有已划定的网格。"),
    "boundary-overlaps": ("Boundary overlaps", "边界与其他区域重叠",
                          "该边界与另一个网格或另一个区重叠（共用边线可以，不能相互覆盖）。"),
    "location-outside-districts": ("Location outside every district", "这个位置不在任何区内",
                                   "这个位置不在任何区内，也不在任何网格内，无法上报。"),
    "not-in-rider-districts": ("Not in the rider's districts", "不在您所在的区",
                               "这个位置不在您加入的网格所属的区内；骑手只能在自己所在的区上报线索。"),
    "not-a-member": ("Not a member", "不是网格成员", "骑手需先加入该网格。"),
    "not-the-claimant": ("Not the claimant", "不是认领人", "只有认领该任务的骑手才能这样做。"),
    "not-an-officer-of-grid": ("Not an officer of this grid", "不是该网格的网格员", "只有该网格的网格员才能这样做。"),
    "not-the-partner": ("Not the partner", "不是该商品的合作商户", "只有提供该商品的合作商户才能核销或拒绝这笔兑换。"),
    "not-allowed": ("Not allowed", "无权操作", "当前身份不能执行此操作。"),
    "out-of-scope": ("Out of scope", "超出管辖范围", "当前令牌不覆盖该区或该网格。"),
    "read-model-behind": ("Read model behind", "数据尚未更新", "读取的数据还没有追上刚写入的变化，请稍后再试。"),
    # the transparency log (transparency/log.py)
    "audit-error": ("Audit log error", "审计日志错误", "审计日志无法回答这个请求。"),
    "not-in-log": ("Not in the log", "不在日志中", "审计日志中没有这个位置的事件。"),
    "not-yet-in-tree": ("Not yet in the tree", "尚未入树", "该事件还没有写入透明日志树，请稍后再试。"),
    "no-such-checkpoint": ("No such checkpoint", "检查点不存在", "没有这个大小的已签名检查点。"),
    "checkpoints-off": ("Checkpoints off", "未启用检查点", "本服务没有配置签名密钥，不签发检查点。"),
    # HTTP itself (problems.py, operations.py, auditors.py)
    "invalid-request": ("Invalid request", "请求无效", "请求的参数或内容不符合要求。"),
    "unauthenticated": ("Unauthenticated", "未登录或令牌无效", "请提供有效的访问令牌（令牌可能已过期）。"),
    "token-claims-unmapped": ("Token claims do not map", "身份信息无法对应",
                              "统一身份认证签发的令牌没有写明本系统能识别的角色、辖区、网格或人员编号，"
                              "请联系信息中心核对您账号的属性。"),
    "identity-provider-unavailable": ("Identity provider unavailable", "统一身份认证暂不可用",
                                      "暂时无法连接统一身份认证（单点登录）来核验您的身份，请稍后再试。"),
    # the pages' sign-in and sessions (signin.py)
    "session-ended": ("Session ended", "登录已结束", "您的登录已结束（已退出、超时，或账号已被停用、调整），请重新登录。"),
    "csrf-token-missing": ("CSRF token missing", "请求缺少安全校验", "这个操作没有带上本次登录的安全校验码，未被执行；请刷新页面后重试。"),
    "sign-in-cancelled": ("Sign-in cancelled", "登录已取消", "在统一身份认证页面上取消了登录，或未同意授权；如需使用，请重新登录。"),
    "sign-in-failed": ("Sign-in failed", "登录失败", "统一身份认证没有完成这次登录，请重新登录；多次失败请联系信息中心。"),
    "sign-in-state-unknown": ("Sign-in unknown or expired", "登录已失效",
                              "这次登录已超过 10 分钟、已经用过，或不是在这个浏览器中从本系统发起的，请重新登录。"),
    "next-not-same-origin": ("Not a page of this site", "不是本系统的页面", "登录后只能回到本系统的页面。"),
    "token-sessions-off": ("Token sign-in off", "不支持令牌登录", "本系统只通过统一身份认证登录，请点击“登录”。"),
    "no-identity-provider": ("No identity provider", "未配置统一身份认证", "本系统没有配置统一身份认证，无法在页面上登录；程序请使用访问令牌。"),
    "no-such-route": ("Not found", "地址不存在", "没有这个接口地址。"),
    "method-not-allowed": ("Method not allowed", "方法不允许", "该地址不支持这种请求方法。"),
    "http-error": ("HTTP error", "请求错误", "请求无法处理。"),
    "body-too-large": ("Request body too large", "请求内容过大", "请求内容超过了允许的大小。"),
    # said by the proxy in front of several instances (scripts/proxy.sh), not by the engine
    "no-instance-answered": ("No instance answered", "服务实例未应答",
                             "处理这个请求的服务实例没有应答，请求可能已执行也可能未执行；请稍后查看再试。"
                             "带 Idempotency-Key 的命令可用同一个键放心重发，不会重复执行。"),
    "internal-error": ("Internal error", "服务器内部错误", "服务器处理请求时出错，错误已记录。"),
    "not-ready": ("Not ready", "服务尚未就绪", "服务还在追赶数据，请稍后再试。"),
    "access-not-recorded": ("Access not recorded", "访问未能记录", "审计访问必须先记录才能查看，记录失败，请稍后再试。"),
}


def chosen(accept_language: str | None) -> Language:
    """The language to answer in: the highest-quality of zh/en the header names."""
    best: tuple[float, Language] = (0.0, "en")
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and 0 < quality <= 1 and quality > best[0]:
            best = (quality, primary)  # type: ignore[assignment]
    return best[1]


def words(code: str, language: Language, title: str, detail: str) -> tuple[str, str]:
    """The title and detail to show: the Chinese pair for zh, else the English title
    and the caller's own detail. An unknown code keeps what it was given."""
    known = TEXTS.get(code)
    if known is None:
        return title, detail
    if language == "zh":
        return known[1], known[2]
    return known[0], detail
