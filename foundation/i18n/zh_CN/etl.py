"""User-visible text of the etl layer.

Issue messages are ``{where}{measure}：…``: ``where`` names the file, sheet and cell
(``etl.where.*``), ``measure`` the measure's code and Chinese name when there is one.
"""

MESSAGES: dict[str, str] = {
    # -- where a problem is
    "etl.where.file": "文件 {file}",
    "etl.where.sheet": "文件 {file} 工作表「{sheet}」",
    "etl.where.cell": "文件 {file} 工作表「{sheet}」单元格 {cell}",
    "etl.where.measure": "（{code} {name}）",
    "etl.unnamed_file": "（上传文件）",
    # -- the file as a whole (etl/safety.py)
    "etl.too_large": "{where}：文件大小 {size}，超过上限 {limit}，已拒收；请删除无关的工作表、图片后重新上传",
    "etl.not_excel": "{where}：不是 Excel 工作簿（应为 .xlsx、.xlsm 或 .xls），实际是{detected}",
    "etl.encrypted": "{where}：文件设置了打开密码（已加密），无法读取；请在 Excel 中取消密码后重新上传",
    "etl.too_expanded": "{where}：工作簿解压后大小为 {size}，超过安全上限 {limit}，已拒收（文件可能已损坏或被恶意构造）",
    "etl.too_expanded_running": "{where}：工作簿解压到 {size} 时已超过安全上限 {limit}（压缩包目录申报的大小与实际不符），已拒收（文件已损坏或被恶意构造）",
    "etl.dtd": "{where}：文件部件 {part} 含有 XML 文档类型定义（DTD），Excel 从不写入这种内容，出于安全原因已拒收；请在 Excel 中打开并另存为 .xlsx 后重新上传",
    "etl.duplicate_cell": "{where}：文件已损坏，工作表数据中同一单元格出现两次，无法确定其值；请在 Excel 中打开并另存为 .xlsx 后重新上传",
    "etl.unreadable": "{where}：无法读取，文件可能已损坏（{detail}）；请在 Excel 中打开并另存为 .xlsx 后重新上传",
    "etl.kind.docx": "Word 文档（.docx）",
    "etl.kind.pptx": "PowerPoint 演示文稿（.pptx）",
    "etl.kind.opendocument": "OpenDocument 文件（.ods/.odt），请另存为 .xlsx",
    "etl.kind.zip": "zip 压缩包",
    "etl.kind.doc": "Word 文档（.doc）",
    "etl.kind.ole": "非 Excel 的 Office 复合文档",
    "etl.kind.empty": "空文件",
    "etl.kind.pdf": "PDF 文件",
    "etl.kind.html": "网页或 XML 文本（可能是系统导出的“假 xls”），请在 Excel 中另存为 .xlsx",
    "etl.kind.image": "图片",
    "etl.kind.archive": "压缩包",
    "etl.kind.text": "纯文本（如 CSV），请在 Excel 中另存为 .xlsx",
    "etl.kind.unknown": "无法识别的格式",
    # -- finding the layout (etl/readers.py)
    "etl.no_sheet": (
        "{where}：未找到可读取的表格。区级月报应有一张含“指标代码/指标名称 … 本月数”表头的工作表；"
        "汇总台账的工作表应以报告期命名（如 2023-06、2023年6月、202306，年度数据为 2023）。现有工作表：{sheets}"
    ),
    "etl.ledger_sheet_name": (
        "{where}：汇总台账的工作表名称“{value}”不是报告期，无法确定数据所属月份；"
        "请将工作表命名为 2023-06、2023年6月 或 202306（年度数据为 2023）"
    ),
    "etl.extra_return_sheet": "{where}：文件中有多张月报表，只读取了工作表「{first}」，本工作表未读取",
    "etl.unknown_sheet": "{where}：工作表名称不是报告期，未读取",
    "etl.empty_sheet": "{where}：工作表为空，未读取",
    "etl.period_duplicate": "{where}：与工作表「{first}」是同一报告期 {period}，无法确定以哪张为准",
    "etl.no_ledger_header": "{where}：未找到表头行（表头第一个单元格应为“单位”“填报单位”或“地区”）",
    # -- layout A header fields
    "etl.unit_missing": "{where}：未填写填报单位（应有“填报单位”单元格，其后为单位名称，如“填报单位：静安区”）",
    "etl.unknown_unit": "{where}：未知单位“{value}”；最接近的单位：{closest}",
    "etl.unknown_uploader": "{where}：上传身份“{value}”不是已登记的单位；最接近的单位：{closest}",
    "etl.no_close_unit": "无相近名称，已登记的单位为 {units}",
    "etl.wrong_unit": "{where}：本表的填报单位为{found}，与上传单位{expected}不一致，不能代其他单位报送",
    "etl.period_missing": "{where}：未填写报告期（应有“报告期”单元格，其后为年月，如 2023-06 或 2023年6月）",
    "etl.period_malformed": "{where}：报告期“{value}”无法识别，应为年月，如 2023-06、2023年6月、202306",
    "etl.period_future": "{where}：报告期 {period} 晚于当前月份 {current}，不能报送未来月份的数据",
    "etl.sheet_period_future": "{where}：工作表对应的报告期 {period} 晚于当前 {current}，不能导入未来的数据",
    # -- layout A table rows / layout B columns
    "etl.measure_missing": "{where}{measure}：缺少必填指标，月报须包含全部月度指标",
    "etl.measure_missing_column": "{where}{measure}：缺少必填指标列，每张工作表须包含该期全部指标",
    "etl.measure_duplicate": "{where}{measure}：指标重复出现（首次出现在 {first}），无法确定以哪个为准",
    "etl.measure_duplicate_column": "{where}{measure}：指标列重复（首次出现在 {first}），无法确定以哪列为准",
    "etl.unknown_row": "{where}：未知指标“{value}”，该行未读取",
    "etl.value_without_measure": "{where}：数值“{value}”所在行没有指标代码或名称，未读取",
    "etl.annual_in_return": "{where}{measure}：年度指标由市局按年统一填报，月报中的该行未读取",
    "etl.unknown_column": "{where}：未知指标列“{value}”，该列未读取",
    "etl.column_wrong_kind": "{where}{measure}：月度指标不属于年度工作表，该列未读取",
    "etl.column_annual_in_month": "{where}{measure}：年度指标应填在以年份命名的工作表（如 2023）中，该列未读取",
    "etl.row_without_unit": "{where}：该行有数值但未填写单位，未读取",
    "etl.unit_duplicate": "{where}：单位{unit_name}在本工作表中重复出现（首次出现在 {first}），无法确定以哪行为准",
    "etl.unit_not_reported": "{where}：{unit_name}本期各指标均为空，视为未报送，未读取（不按 0 计）",
    "etl.total_mismatch": "{where}{measure}：合计行的值“{value}”与 {count} 个单位之和 {total} 不一致（合计行不作为数据读取）",
    # -- cell values
    "etl.expect.int": "非负整数",
    "etl.expect.decimal": "非负数，最多两位小数",
    "etl.expect.max": "，且不超过 {max}",
    "etl.error_cell": "{where}{measure}：单元格是 Excel 错误值“{value}”（公式引用失效、除以零或找不到数据等），不是数字，应为{expected}",
    "etl.not_a_number": "{where}{measure}：值“{value}”不是数字，应为{expected}",
    "etl.negative": "{where}{measure}：值“{value}”为负数，应为{expected}",
    "etl.not_whole": "{where}{measure}：值“{value}”不是整数，应为{expected}",
    "etl.too_many_decimals": "{where}{measure}：值“{value}”超过两位小数，应为{expected}",
    "etl.above_max": "{where}{measure}：值“{value}”超过上限 {max}，应为{expected}",
    "etl.formula_no_value": (
        "{where}{measure}：单元格是公式但没有计算结果，应为{expected}；"
        "请在 Excel 中打开、计算并保存后重新上传，或直接填写数值"
    ),
    "etl.blank_as_zero": "{where}：{unit_name}有 {count} 个单元格为空或填写“—/无”，已按 0 读取：{cells}",
    "etl.blank_item": "{cell}（{code} {name}，{value}）",
    "etl.empty_cell": "空白",
}

MESSAGES.update(
    {
        # -- the return template (etl/writers.py)
        "etl.template.title": "{unit}知识产权行政保护工作月报（{period}）",
        "etl.template.instructions_title": "填报说明",
        "etl.template.line_unit": "一、填报单位：{unit}（单位代码 {code}）。",
        "etl.template.line_period": "二、报告期：{period}。",
        "etl.template.line_due": "三、报送时间：请于 {year}年{month}月{day}日 24:00（北京时间）前上传本表，逾期视为未按时报送。",
        "etl.template.line_fill": "四、请在“月报”工作表的黄色单元格中填写：本月数、备注，以及填报人、联系电话、填报日期。其余单元格已锁定。",
        "etl.template.line_numbers": "五、本月数请填写数字，不要带单位或文字；可使用千分位（如 1,234）。",
        "etl.template.line_blank": "六、本月没有发生的指标请填 0；空白或填写“—”“无”均按 0 读取，系统会提示核对。",
        "etl.template.line_int": "七、件数、个数、人次等为非负整数，不得为负数或小数。",
        "etl.template.line_decimal": "八、金额（万元）为非负数，最多保留两位小数。",
        "etl.template.line_flow_stock": "九、“当月发生”指标填本月一个月的数量（不是年初累计）；“月末存量”指标填本月最后一天的数量。",
        "etl.template.line_labels": "十、请勿修改指标代码、指标名称，勿增删行；如需说明请写在备注栏。",
        "etl.template.line_formula": "十一、如使用公式，请在 Excel 中计算并保存后再上传。",
        "etl.template.kind_flow": "当月发生",
        "etl.template.kind_stock": "月末存量",
        "etl.template.dv_title": "数值不符合要求",
        "etl.template.dv_error": "请填写{expected}。",
        "etl.template.dv_prompt_title": "本月数",
        "etl.template.dv_prompt": "请填写{expected}；本月没有请填 0。",
        "etl.ledger.empty_sheet": "无数据",
    }
)

MESSAGES.update(
    {
        # -- cross-period plausibility warnings (etl/checks.py)
        "etl.check.closed_above_open": (
            "{where}{measure}：{unit_name} {period} 结案 {value} 件，超过可结案数 {could}"
            "（上月 {prev_period} 月末未结 {pending} {pending_value} + 本月 {inflow} {inflow_value}），请核对"
        ),
        "etl.check.stock_jump": (
            "{where}{measure}：{unit_name} {period} 月末数 {value} 较上月 {prev_period} 的 {prev_value} "
            "变化 {change}，超过 ±{limit}，请核对"
        ),
        "etl.check.ytd_above": (
            "{where}{measure}：{unit_name} {first} 至 {period} 累计 {part} 为 {value}，"
            "超过累计 {whole} {whole_value}（按已知的 {months} 个月计），请核对"
        ),
    }
)

MESSAGES.update(
    {
        "etl.sheet_too_big": (
            "{where}：工作表的数据区域达 {rows} 行 × {cols} 列，超过安全上限 {limit} 个单元格，已拒收"
            "（可能在远处的单元格误填了内容，请删除多余的行列后重新上传）"
        ),
        # layout C: the plan-task ledger
        "etl.task.unknown_column": "{where}：任务台账中未知的列“{value}”，该列未读取",
        "etl.task.column_missing": "{where}：任务台账缺少必填列 {columns}",
        "etl.task.id_missing": "{where}：任务编号为空（每行任务须填写任务编号）",
        "etl.task.id_duplicate": "{where}：任务编号 {value} 重复，已在 {first} 出现",
        "etl.task.required": "{where}（任务 {task}）：{column}为空，此列必填",
        "etl.task.deadline_form": (
            "{where}（任务 {task}）：完成时限“{value}”无法识别；"
            "应为日期（如 2025-12-31、2025年12月31日、2025年12月底、2025年底）或“持续推进”“长期”"
        ),
        "etl.task.done_form": "{where}（任务 {task}）：完成日期“{value}”无法识别；应为日期，如 2025-06-30 或 2025年6月30日",
        "etl.task.done_future": "{where}（任务 {task}）：完成日期 {value} 晚于今天（{today}）",
        "etl.task.done_missing": "{where}（任务 {task}）：进展状态为“已完成”，但未填写完成日期",
        "etl.task.updated_form": "{where}（任务 {task}）：更新日期“{value}”无法识别；应为日期，如 2025-06-30",
        "etl.task.updated_future": "{where}（任务 {task}）：更新日期 {value} 晚于今天（{today}）",
        "etl.task.progress": "{where}（任务 {task}）：进展状态“{value}”无效；只能填写 {allowed}",
        "etl.task.not_owned": "{where}（任务 {task}）：该任务的牵头或责任单位不含{unit}，不能由{unit}报送",
        "etl.task.unknown_task": (
            "{where}（任务 {task}）：任务目录中没有任务编号 {value}；新任务只能由市局分析人员建立，"
            "请核对任务编号（可用 ipdash tasks template 导出现有任务）"
        ),
        "etl.task.definition_kept": (
            "{where}（任务 {task}）：{column}与已登记的“{stored}”不同，未采用"
            "（任务内容、牵头和责任单位、完成时限由市局维护，区里报送只更新进展）"
        ),
    }
)
