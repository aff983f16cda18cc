"""User-visible text of the plan-task ledger (督查督办): ``ipdash tasks``, the 任务督办 page, the
任务进展 sheet of the assessment workbook."""

MESSAGES: dict[str, str] = {
    "tasks.bad_date": "日期格式应为 YYYY-MM-DD：{value}",
    "tasks.table_header": "截至 {as_of} 的任务状态（共 {n} 项，红色在前）：",
    "tasks.table_row": "{mark} {task}\t{state}{overdue}\t时限 {deadline}\t{lead}\t{title}",
    "tasks.days_overdue": "（逾期 {n} 天）",
    "tasks.template_written": "已写出任务台账 {file}（{n} 项任务）：填写进展后用 ipdash load 载入",
    "tasks.write_failed": "无法写出 {file}（{error}）",
    "tasks.colour.red": "红",
    "tasks.colour.yellow": "黄",
    "tasks.colour.green": "绿",
    "tasks.state.done": "按期完成",
    "tasks.state.done_late": "逾期完成",
    "tasks.state.overdue": "逾期未完成",
    "tasks.state.due_soon": "临近时限",
    "tasks.state.stale": "久未更新",
    "tasks.state.in_progress": "推进中",
    "tasks.state.not_started": "未启动",
    "tasks.progress.not_started": "未启动",
    "tasks.progress.in_progress": "推进中",
    "tasks.progress.done": "已完成",
    # the 任务进展 sheet of the assessment workbook
    "tasks.sheet.title": "规划任务进展（督查督办）",
    "tasks.sheet.subtitle": "截至 {as_of} 已登记的进展；状态按 {day} 判定。红 {red} 项，黄 {yellow} 项，绿 {green} 项",
    "tasks.sheet.columns": "序号|任务编号|任务内容|来源|牵头单位|责任单位|完成时限|进展状态|完成日期|最近更新|进展情况|状态|逾期天数",
    "tasks.sheet.none": "没有需要督办的任务",
    # evidence files
    "tasks.evidence.too_big": "佐证材料 {file} 大小为 {size:,} 字节，超过 {limit} MB 上限，未接收",
    "tasks.evidence.empty": "佐证材料 {file} 是空文件，未接收",
    "tasks.evidence.bad_type": "佐证材料 {file} 的内容不是可接收的格式（按文件内容判断，而非文件名），只接收 {allowed}",
    "tasks.evidence.name_mismatch": "佐证材料 {file} 的内容是 {kind} 文件，与文件名的扩展名不符，请改正文件名后重新上传",
}
