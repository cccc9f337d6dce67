"""zh_CN translations of the policies-as-code messages (issue #7)."""

ZH = {
    "A region is a division code of 2 to 12 digits": "区划代码应为 2 至 12 位数字",
    "Amount": "金额",
    "As of": "评估日期",
    "Eligible": "符合条件",
    "Evaluating in the database needs PostgreSQL": "在数据库内评估需要 PostgreSQL",
    "Not eligible": "不符合条件",
    "The as-of time needs a time zone": "评估时间须带时区",
    "The person belongs to no household": "此人不属于任何家庭户",
    "Unknown backend": "未知的计算后端",
    "Write the date as YYYY-MM-DD": "日期格式应为 YYYY-MM-DD",
    "met": "满足",
    "not met": "不满足",
    "threshold": "标准",
    "unknown: a value is missing": "无法判断：缺少数据",
    "value": "实际值",
    "yuan": "元",
    "yuan per month": "元/月",
}
