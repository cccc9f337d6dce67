"""zh_CN translations of the followups branch's messages (replayed by the integrator)."""

ZH = {
    # optional items in a one-thing
    "Name the items as a list of item ids": "请以事项编号列表指明所申请的事项",
    "%(item)s is not one of this one-thing's items": "%(item)s 不是本“一件事”的事项",
    "Choose at least one item": "请至少选择一个事项",
    "%(item)s is always part of this one-thing": "%(item)s 是本“一件事”的必办事项",
    "Choose only one of %(items)s": "%(items)s 只能选择其一",
    "Choose one of %(items)s": "请在 %(items)s 中选择一项",
    "%(item)s needs %(needs)s": "%(item)s 须同时申请 %(needs)s",
    "Only a one-thing's items can be chosen": "只有“一件事”可以选择事项",
    "What do you apply for?": "您要申请哪些事项？",
    "Choose one": "请选择一项",
    "None of these": "以上都不申请",
    "Show the form for these": "按所选事项显示表单",
    # timeline labels
    "Draft saved": "已保存草稿",
    "Public notice ended; approval in effect": "公示期满，审批生效",
    "Objection received; back to review": "收到异议，退回复核",
    "Deadline near": "临近办理时限",
    "Overdue": "已超期",
    "Filed at a service-hall counter": "窗口代为申请（一窗受理）",
    "Filed by an authorised proxy": "受托人代办",
    "Filed by a guardian": "监护人代为申请",
    # /metrics
    "Metrics need the scrape token (TONGBAN_METRICS_TOKEN)": "读取监控指标须提供抓取令牌（TONGBAN_METRICS_TOKEN）",
    # inbox
    "A certificate in your wallet was revoked": "您数字证件中的一份证照已被注销",
}
