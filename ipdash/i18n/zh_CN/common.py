"""Shared words: statuses, windows, directions, CLI text."""

MESSAGES: dict[str, str] = {
    "app.title": "知识产权行政保护绩效监测",
    "na": "—",
    "status.accepted": "已接收",
    "status.unchanged": "内容未变",
    "status.rejected": "已拒收",
    "window.month": "当月",
    "window.quarter": "季度累计",
    "window.ytd": "年初至今",
    "window.year": "全年",
    "window.rolling12": "近12个月",
    "direction.higher": "越高越好",
    "direction.lower": "越低越好",
    "region.shanghai": "上海市",
    "region.anhui": "安徽省",
    "unit.city": "全市",
    "cli.error": "错误：{message}",
    "cli.db_upgraded": "数据库已升级至最新版本：{url}",
    "cli.bad_period": "报告期格式应为 YYYY-MM：{value}",
    "cli.unknown_unit": "未知单位：{value}",
    "cli.unknown_region": "未知地区：{value}",
}
