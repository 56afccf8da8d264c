"""The panel's words in Chinese and English, and the language switch.

``STRINGS`` maps a key to (Chinese, English). Templates call ``t("key")``;
the page script gets the same table for the words it writes itself. The
language is the ``lang`` cookie, else the browser's Accept-Language, else
Chinese (the control room's language).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "STRINGS", "pick_language", "translator", "table"]

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

STRINGS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "app.title": ("出入境证件制证中心 · 生产控制台", "Exit-entry document production · Control panel"),
    "app.short": ("制证控制台", "Control panel"),
    "nav.line": ("生产线", "Line"),
    "nav.queue": ("队列", "Queue"),
    "nav.plan": ("产能计划", "Plan"),
    "nav.green": ("绿色通道", "Green channel"),
    "nav.stock": ("库存与交接", "Stock & audit"),
    "nav.review": ("质检复核", "Review"),
    "nav.settings": ("设置", "Settings"),
    "auth.login": ("登录", "Log in"),
    "auth.logout": ("退出", "Log out"),
    "auth.user": ("用户名", "User name"),
    "auth.password": ("密码", "Password"),
    "auth.failed": ("用户名或密码错误", "Wrong user name or password"),
    "auth.expired": ("请重新登录", "Please log in again"),
    "auth.forbidden": ("无权访问此页面", "You may not open this page"),
    "auth.forbidden_hint": ("此页面需要以下角色之一：", "This page needs one of the roles:"),
    "role.operator": ("操作员", "Operator"),
    "role.reviewer": ("复核员", "Reviewer"),
    "role.supervisor": ("值班主管", "Supervisor"),
    "lang.switch": ("English", "中文"),
    "common.updated": ("更新于", "Updated"),
    "common.offline": ("连接中断，正在重试…", "Connection lost, retrying…"),
    "common.pool.booklet": ("护照本式", "Booklet"),
    "common.pool.card": ("卡式", "Card"),
    "common.total": ("合计", "Total"),
    "common.none": ("无", "None"),
    "common.error": ("错误", "Error"),
    "common.saved": ("已保存", "Saved"),
    "common.by": ("操作人", "By"),
    "common.day": ("日", "day"),
    "common.days": ("日", "days"),
    "line.title": ("生产线状态", "Line status"),
    "line.machine": ("设备", "Machine"),
    "line.state": ("状态", "State"),
    "line.job": ("当前任务", "Current job"),
    "line.rate": ("本小时产量/额定", "Docs/hour vs rating"),
    "line.blanks": ("余料", "Blanks left"),
    "line.pause": ("暂停", "Pause"),
    "line.drain": ("排空", "Drain"),
    "line.resume": ("恢复", "Resume"),
    "line.confirm_pause": ("暂停设备 {id}？当前证件会先完成。", "Pause {id}? The document under way finishes first."),
    "line.confirm_drain": ("排空设备 {id}？完成当前任务后不再接单。", "Drain {id}? It finishes its job and takes no more."),
    "line.summary.machines": ("设备", "Machines"),
    "line.summary.rate": ("当前产量", "Output now"),
    "line.summary.queue": ("待印", "Waiting"),
    "line.summary.review": ("待复核", "Awaiting review"),
    "line.summary.shifts": ("班次", "Shifts"),
    "state.idle": ("空闲", "Idle"),
    "state.busy": ("生产中", "Busy"),
    "state.draining": ("排空中", "Draining"),
    "state.paused": ("已暂停", "Paused"),
    "state.fault": ("故障", "Fault"),
    "state.offline": ("离线", "Offline"),
    "shifts.normal": ("正常班", "Normal shifts"),
    "shifts.peak": ("高峰班", "Peak shifts"),
    "queue.title": ("待印队列", "Print queue"),
    "queue.backlog": ("积压：按距生产截止的工作日与服务类别", "Backlog by working days to deadline and service class"),
    "queue.class": ("服务类别", "Service class"),
    "queue.overdue": ("已逾期", "Overdue"),
    "queue.at_risk": ("可能误期", "At risk of missing the deadline"),
    "queue.at_risk_hint": ("计划中已误期或在截止当日才印制", "late in the plan, or printed on the deadline day itself"),
    "queue.next_up": ("即将印制", "Next to print"),
    "queue.application": ("申请编号", "Application"),
    "queue.doc_type": ("证件类型", "Document"),
    "queue.deadline": ("生产截止", "Production deadline"),
    "queue.planned": ("计划印制", "Planned"),
    "queue.days_late": ("误期工作日", "Working days late"),
    "queue.late": ("误期", "late"),
    "queue.on_deadline": ("截止当日", "on deadline day"),
    "queue.waiting": ("待印", "waiting"),
    "class.green": ("绿色通道", "Green channel"),
    "class.same_day": ("特急", "Same day"),
    "class.urgent": ("加急", "Urgent"),
    "class.normal": ("普通", "Normal"),
    "plan.title": ("产能计划：每个工作日的需求与产能", "Plan: demand against capacity per working day"),
    "plan.preview": ("预览", "Preview"),
    "plan.line_runs": ("生产线当前执行", "The line now runs"),
    "plan.demand": ("当日到期需求", "Due that day"),
    "plan.capacity": ("产能", "Capacity"),
    "plan.overtime": ("加班产能", "Overtime capacity"),
    "plan.cum_demand": ("累计需求", "Cumulative demand"),
    "plan.cum_capacity": ("累计产能（含加班）", "Cumulative capacity (with overtime)"),
    "plan.jobs": ("待印", "Jobs"),
    "plan.late": ("计划误期", "Late in plan"),
    "plan.overdue": ("其中已逾期", "of which already overdue"),
    "plan.machines_up": ("台设备在产", "machines up"),
    "plan.feasible": ("全部可按期", "Every deadline can be met"),
    "plan.infeasible": ("有截止无法满足", "Some deadlines cannot be met"),
    "plan.overtime_total": ("所需加班", "Overtime needed"),
    "plan.late_with_overtime": ("加班后仍误期", "Late even with overtime"),
    "plan.hours": ("小时", "h"),
    "plan.apply_hint": ("仅值班主管可在“设置”中更改班次", "Only a supervisor changes the shifts (Settings)"),
    "green.title": ("绿色通道：紧急申请", "Green channel: emergency application"),
    "green.submit": ("提交并排产", "Admit and place"),
    "green.placed": ("已受理并排产", "Admitted and placed"),
    "green.machine": ("印制设备", "Prints on"),
    "green.starts": ("开始时间", "Starts at"),
    "green.wait": ("等待", "Wait"),
    "green.position": ("队列位置", "Queue position"),
    "green.first": ("第一位", "first"),
    "green.nobody_late": ("无其他申请因此误期", "Nobody else becomes late"),
    "green.some_late": ("以下申请将因此误期：", "These applications become late:"),
    "green.no_machine": ("今日无可用设备，排在下一工作日", "No machine of the pool is up today"),
    "green.errors": ("申请有误，未保存：", "The application has errors; nothing was stored:"),
    "field.application_id": ("申请编号", "Application id"),
    "field.doc_type": ("证件类型", "Document type"),
    "field.surname_cn": ("姓", "Surname (Chinese)"),
    "field.given_name_cn": ("名", "Given name (Chinese)"),
    "field.sex": ("性别", "Sex"),
    "field.date_of_birth": ("出生日期", "Date of birth"),
    "field.place_of_birth": ("出生地", "Place of birth"),
    "field.nationality": ("国籍", "Nationality"),
    "field.acceptance_point": ("受理点", "Acceptance point"),
    "field.delivery": ("领取方式", "Delivery"),
    "field.mail_address": ("邮寄地址", "Mail address"),
    "field.photo": ("照片（PNG）", "Photo (PNG)"),
    "field.signature": ("签名（PNG）", "Signature (PNG)"),
    "field.reason": ("紧急事由", "Emergency"),
    "delivery.pickup": ("受理点领取", "Pick-up"),
    "delivery.mail": ("邮寄", "Mail"),
    "stock.title": ("空白证件库存", "Blank stock"),
    "stock.pool": ("类别", "Pool"),
    "stock.in_store": ("库房", "Store room"),
    "stock.in_machines": ("设备内", "In machines"),
    "stock.per_day": ("日耗用", "Per working day"),
    "stock.cover": ("可用天数", "Days of cover"),
    "stock.spoilage": ("废证（按原因）", "Spoilage by reason"),
    "stock.reason": ("原因", "Reason"),
    "stock.issued": ("已出证", "Issued"),
    "stock.handover": ("交接记录", "Hand-over log"),
    "stock.station": ("岗位", "Station"),
    "stock.event": ("事件", "Event"),
    "stock.subject": ("对象", "Subject"),
    "stock.time": ("时间", "Time"),
    "stock.detail": ("详情", "Detail"),
    "stock.all": ("全部", "All"),
    "stock.filter": ("筛选", "Filter"),
    "review.title": ("质检复核", "Review of flagged documents"),
    "review.queue": ("待复核", "Flagged"),
    "review.empty": ("没有待复核的证件", "Nothing to review"),
    "review.printed_photo": ("印制照片", "Printed photo"),
    "review.enrolled_photo": ("采集照片", "Enrolled photo"),
    "review.printed_signature": ("印制签名", "Printed signature"),
    "review.captured_signature": ("采集签名", "Captured signature"),
    "review.name": ("姓名", "Name"),
    "review.mrz": ("机读区：读取 / 应为", "MRZ: read back / expected"),
    "review.mrz_read": ("读取", "Read"),
    "review.mrz_expected": ("应为", "Expected"),
    "review.mrz_none": ("此证件无机读区", "This document has no MRZ"),
    "review.intake": ("打印前", "before printing"),
    "review.failing": ("未通过的检查", "Failing checks"),
    "review.page": ("证件页（红框为问题区域）", "Data page (failing zones outlined)"),
    "review.approve": ("通过", "Approve"),
    "review.reject": ("退回", "Reject"),
    "review.reason": ("退回原因", "Reason"),
    "review.route.reprint": ("作废并重印", "Void the blank, reprint"),
    "review.route.new_photo": ("退回受理点重新采集照片", "Back to the acceptance point for a new photo"),
    "review.route.new_signature": ("退回受理点重新签名", "Back to the acceptance point for a new signature"),
    "review.note": ("说明", "Note"),
    "review.confirm_reject": ("确认退回", "Confirm reject"),
    "review.cancel": ("取消", "Cancel"),
    "review.keys": ("快捷键：J/K 下一项/上一项，A 通过，R 退回，1-3 选择原因，Enter 确认，Esc 取消",
                    "Keys: J/K next/previous, A approve, R reject, 1-3 pick a reason, Enter confirm, Esc cancel"),
    "review.done": ("已处理", "Done"),
    "review.due": ("截止", "Due"),
    "review.blank": ("空白证件序号", "Blank serial"),
    "settings.title": ("设置（值班主管）", "Settings (supervisor)"),
    "settings.shifts": ("班次", "Shifts"),
    "settings.peak_on": ("启用高峰班", "Run peak shifts"),
    "settings.peak_off": ("恢复正常班", "Run normal shifts"),
    "settings.line": ("生产线配置", "Line configuration"),
    "settings.users": ("用户", "Users"),
    "settings.add_user": ("新增用户", "Add user"),
    "settings.role": ("角色", "Role"),
    "settings.created_by": ("创建人", "Created by"),
    "settings.machines": ("设备", "Machines"),
    "settings.rated": ("额定（件/小时）", "Rated (docs/hour)"),
    "settings.shift_start": ("班次开始", "Shift start"),
    "settings.normal_hours": ("正常班时长", "Normal shift"),
    "settings.peak_hours": ("高峰班时长", "Peak shift"),
})
"""Key -> (Chinese, English)."""


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The language to answer in: the cookie's, else the browser's first known one, else Chinese."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)``: the string in ``lang`` with ``{name}`` filled in; unknown keys show as themselves."""
    column = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        pair = STRINGS.get(key)
        text = pair[column] if pair else key
        return text.format(**values) if values else text

    return t


def table(lang: str) -> dict[str, str]:
    """Every string in ``lang`` (for the page script)."""
    column = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return {key: pair[column] for key, pair in STRINGS.items()}
