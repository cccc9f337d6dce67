"""zh_CN translations of the content branch's messages (review-step levels, 公示, the catalogue)."""

ZH = {
    "Say what the objection is": "请说明异议内容",
    "This step is decided at another level": "该环节应由其他层级办理",
    "This task is not in public notice": "该事项不在公示期",
    "Unknown domain": "未知的服务领域",
    "Unknown life event": "未知的人生事件",
    "Your application is in public notice": "您的申请正在公示",
    "An objection was raised during the public notice; your application is reviewed again":
        "公示期间收到异议，您的申请将重新审核",
}
