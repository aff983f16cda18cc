"""A deployment's own units and regions (IPDASH_CATALOGUE_DIR, issue 13): a catalogue folder read
and checked at start, every problem named; the commands, the store and the dashboard follow it.

The folder of the happy path is the built-in Shanghai units plus a new region, 海南 (hainan), of
three cities written here; 安徽 (anhui) is left out, so it must be gone everywhere. The folder of
many problems is written file by file below, and the expected problems were worked out by hand
from it, in the order the files are read (unknown files, units files in name order, measures,
indicators, scheme, regions, then the plans' and task files' headers and encodings, then their
rows)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import default_values, make_return
from sqlalchemy import create_engine, text

from foundation.catalogue import (
    BUILT_IN_DIR,
    CatalogueError,
    builtin_catalogue,
    default_catalogue,
    default_scheme_path,
    default_task_catalogue,
    install_catalogue,
    load_catalogue,
)
from foundation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

HAINAN = """code,admin_code,name_zh,short_zh,name_en,kind,parent
haikou,460100,海口市,海口,Haikou,city,hainan
sanya,460200,三亚市,三亚,Sanya,city,hainan
danzhou,460400,儋州市,儋州,Danzhou,city,hainan
"""


def write_folder(folder: Path) -> Path:
    """Shanghai as shipped, 海南 new (named in regions.csv), no 安徽; the rest built in."""
    folder.mkdir(parents=True)
    shutil.copy(BUILT_IN_DIR / "units_shanghai.csv", folder / "units_shanghai.csv")
    (folder / "units_hainan.csv").write_text(HAINAN, encoding="utf-8")
    (folder / "regions.csv").write_text("region,name_zh,benchmark_zh\nhainan,海南省,全省平均水平\n", "utf-8")
    return folder


def write_returns(folder: Path) -> list[Path]:
    """March 2024 for 三亚 (by its full name) and 海口 (by its short name); 儋州 sends nothing.
    调解成功率 = mediation_succeeded / mediation_accepted: 三亚 15/20 = 0.75, 海口 9/10 = 0.9,
    the region pooled (15 + 9) / (20 + 10) = 0.8."""
    folder.mkdir()
    meta = {"填报人": "李四", "联系电话": "0898-66666666", "填报日期": "2024-04-05"}
    files = []
    for name, unit, accepted, succeeded in (("sanya", "三亚市", 20, 15), ("haikou", "海口", 10, 9)):
        values = default_values() | {"mediation_accepted": accepted, "mediation_succeeded": succeeded}
        path = folder / f"{name}_2024-03.xlsx"
        make_return(path, unit=unit, period="2024-03", values=values, meta=meta)
        files.append(path)
    return files


def cli(*argv: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipdash.cli", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=timeout,  # a hang guard only
    )


# --- the built-in catalogue when nothing is set -------------------------------------------------


def test_the_built_in_catalogue_when_the_setting_is_unset() -> None:
    # counted from foundation/catalogue_data: 17 Shanghai + 16 Anhui units; tasks 16 + 25 + 8
    assert Settings().catalogue_dir is None
    assert install_catalogue(None) is builtin_catalogue() is default_catalogue()
    cat = default_catalogue()
    assert cat.regions() == ["anhui", "shanghai"]
    assert (len(cat.units_of("shanghai")), len(cat.units_of("anhui"))) == (17, 16)
    assert (len(cat.measures), len(cat.indicators)) == (35, 17)
    assert default_scheme_path() == BUILT_IN_DIR / "scheme_default.csv"
    tasks = default_task_catalogue()
    assert (len(tasks.tasks), len(tasks.recurring), len(tasks.plans)) == (49, 3, 5)
    assert cat.region_name("anhui") == "安徽省" and cat.benchmark_name("shanghai") == "全市平均水平"


def test_an_empty_setting_means_the_built_in_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPDASH_CATALOGUE_DIR", "")
    assert Settings().catalogue_dir is None  # not the working directory
    monkeypatch.setenv("IPDASH_CATALOGUE_DIR", "/srv/ipdash/catalogue")
    assert Settings().catalogue_dir == Path("/srv/ipdash/catalogue")


# --- a folder with a new region ------------------------------------------------------------------


def test_an_installed_folder_is_the_catalogue_of_the_process(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "catalogue")
    cat = install_catalogue(folder, region="hainan")
    assert default_catalogue() is cat
    assert cat.regions() == ["hainan", "shanghai"]  # 安徽 left out: gone
    assert [u.code for u in cat.units_of("hainan")] == ["haikou", "sanya", "danzhou"]
    assert cat.region_name("hainan") == "海南省" and cat.benchmark_name("hainan") == "全省平均水平"
    assert cat.region_name("shanghai") == "上海市"  # no row in regions.csv: the i18n name
    # measures, indicators and the scheme come from the built-in set (the folder has none)
    assert default_scheme_path() == BUILT_IN_DIR / "scheme_default.csv"
    assert (len(cat.measures), len(cat.indicators)) == (35, 17)
    # the built-in plan tasks are Shanghai's, which the folder keeps
    assert len(default_task_catalogue().tasks) == 49
    # a forked worker installing it again gets the same catalogue, nothing read twice
    assert install_catalogue(folder, region="hainan") is cat
    # a folder's own scheme is the default scheme
    scheme = (BUILT_IN_DIR / "scheme_default.csv").read_text("utf-8")
    other = write_folder(tmp_path / "with-scheme")
    (other / "scheme_default.csv").write_text(scheme, "utf-8")
    install_catalogue(other)
    assert default_scheme_path() == other / "scheme_default.csv"
    install_catalogue(None)
    assert default_catalogue() is builtin_catalogue()


def test_a_folder_without_shanghai_has_no_built_in_plan_tasks(tmp_path: Path) -> None:
    folder = tmp_path / "catalogue"
    folder.mkdir()
    (folder / "units_hainan.csv").write_text(HAINAN, encoding="utf-8")
    cat = install_catalogue(folder, region="hainan")
    assert cat.regions() == ["hainan"]
    tasks = default_task_catalogue()
    assert (tasks.tasks, tasks.recurring, tasks.plans) == ({}, [], {})
    assert cat.region_name("hainan") == "hainan"  # named nowhere: its code
    assert cat.benchmark_name("hainan") == "平均水平"


def test_the_region_setting_must_be_a_region_of_the_folder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "catalogue")
    with pytest.raises(CatalogueError) as caught:
        install_catalogue(folder, region="anhui")
    assert [str(p) for p in caught.value.problems] == [
        "IPDASH_REGION：设置 IPDASH_REGION=“anhui”不是目录中的地区（可用：hainan、shanghai）"
    ]
    assert default_catalogue() is builtin_catalogue()  # a refused folder leaves the old one


def test_commands_follow_the_folder_named_in_the_environment(db_url: str, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "catalogue")
    returns = write_returns(tmp_path / "returns")
    env = {
        "IPDASH_CATALOGUE_DIR": str(folder),
        "IPDASH_REGION": "hainan",
        "IPDASH_ERROR_LOG": str(tmp_path / "errors.log"),
    }
    done = cli("db", "upgrade", "--db", db_url, env=env)
    assert done.returncode == 0, done.stderr
    engine = create_engine(db_url)
    with engine.connect() as conn:
        units = conn.execute(text("SELECT code, region FROM unit WHERE region = 'hainan' ORDER BY code"))
        assert [tuple(r) for r in units] == [("danzhou", "hainan"), ("haikou", "hainan"), ("sanya", "hainan")]
    engine.dispose()

    template = tmp_path / "sanya_template.xlsx"
    done = cli("template", "--unit", "sanya", "--period", "2024-03", "-o", str(template), env=env)
    assert done.returncode == 0, done.stderr
    from openpyxl import load_workbook

    cells = {c.value for ws in load_workbook(template) for row in ws.iter_rows() for c in row}
    assert "三亚市" in cells

    done = cli("load", "--db", db_url, *map(str, returns), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "单位=sanya" in done.stdout and "单位=haikou" in done.stdout

    done = cli(
        "indicators", "--db", db_url, "--period", "2024-03", "--window", "month", "--format", "json", env=env
    )  # no --region: IPDASH_REGION=hainan
    assert done.returncode == 0, done.stderr
    rows = [r for r in json.loads(done.stdout) if r["indicator"] == "mediation_success_rate"]
    assert {r["unit"]: r["value"] for r in rows} == {
        "haikou": 0.9,
        "sanya": 0.75,
        "danzhou": None,
        "city": 0.8,
    }
    assert {r["unit"]: r["rank"] for r in rows if r["rank"] is not None} == {"haikou": 1, "sanya": 2}

    done = cli("indicators", "--db", db_url, "--period", "2024-03", "--window", "month", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "海南省 指标 · 当月 · 截至 2024-03"  # named in regions.csv

    done = cli("indicators", "--db", db_url, "--period", "2024-03", "--region", "anhui", env=env)
    assert done.returncode == 2  # 安徽 is not a region of this catalogue
    assert "invalid choice: 'anhui' (choose from 'hainan', 'shanghai')" in done.stderr


# --- a folder with many problems -------------------------------------------------------------


def write_bad_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "units_north.csv").write_text(
        "code,admin_code,name_zh,short_zh,name_en,kind,parent\n"
        "n1,110001,北一区,北一,North One,district,north\n"  # line 2: fine
        ",110002,北二区,北二,North Two,district,north\n"  # 3: no code
        "n1,110003,北三区,北三,North Three,district,north\n"  # 4: n1 again
        "n4,11000X,北四区,北一,North Four,town,south\n"  # 5: admin code, kind, parent, 北一 again
        "city,110005,城区,城,City,district,north\n"  # 6: the region row's code
        "n6,110006,,北六,North Six,district,north\n"  # 7: no name
        "n 7,110007,北七区,北七,North Seven,district,north\n",  # 8: a space in the code
        encoding="utf-8",
    )
    (folder / "units_south.csv").write_text(
        "code,admin_code,name_zh,short_zh,name_en,kind,parent\n"
        "s1,120001,南一区,南一,South One,district,south\n"
        "s2,120002,南二区,南二,South Two,district,south,oops\n"  # 3: a value too many
        "n1,120003,南三区,南三,South Three,district,south\n",  # 4: n1 is north's
        encoding="utf-8",
    )
    (folder / "measures.csv").write_text(
        "code,name_zh,name_en,category,kind,unit,dtype,max,plan_ref\n"
        "m_a,计量甲,A,cases,flow,件,int,,\n"
        "m_b,计量甲,B,cases,monthly,件,float,-1,\n",  # 3: same name, kind, dtype, max
        encoding="utf-8",
    )
    (folder / "indicators.csv").write_text(
        "code,name_zh,name_en,numerator,denominator,direction,display_unit,plan_ref\n"
        "i_a,指标甲,A,sum(m_a),,higher,件,\n"
        "i_b,指标乙,B,avg(m_a),sum(m_zz),up,%,\n",  # 3: direction, avg(), unknown measure
        encoding="utf-8",
    )
    (folder / "scheme_default.csv").write_text(
        "indicator,weight,method,target,floor,ceiling,bands\n"
        "i_a,abc,benchmark,,,,\n"  # 2: weight
        "i_zz,50,benchmark,,,,\n"  # 3: unknown indicator
        "i_a,50,,,,,\n",  # 4: i_a again, no method
        encoding="utf-8",
    )
    (folder / "regions.csv").write_text("region,name\nnorth,北方\n", encoding="utf-8")
    (folder / "plans.csv").write_text(
        "plan,doc_no,title,issued,region\n"
        "p1,北〔2024〕1号,北方计划,2024-01-15,north\n"
        "p2,北〔2024〕2号,第二计划,2024-02-30,north\n"  # 3: no such day
        "p3,东〔2024〕3号,东方计划,2024-03-01,east\n",  # 4: no units_east.csv
        encoding="utf-8",
    )
    (folder / "tasks_p1.csv").write_text(
        "task,plan,clause,title,text,lead,owners,deadline,indicators\n"
        "p1-01,p1,一,任务一,内容,北一区政府,各区政府,2024年底,i_a\n"  # 2: fine (北一区 is n1)
        "p1-02,p9,二,任务二,内容,北方局,,2024-06-30,\n"  # 3: unknown plan
        "p1-03,p1,三,任务三,内容,北方局,n99、wanning,下个月,i_zz\n"  # 4: indicator, 2 owners, deadline
        "p1-04,p1,四,任务四,内容,南一区政府,,持续推进,\n"  # 5: a unit of the south
        "p1-01,p1,五,任务五,内容,北方局,,持续推进,\n",  # 6: p1-01 again
        encoding="utf-8",
    )
    (folder / "tasks_p2.csv").write_bytes(  # saved from Excel as "CSV" (GBK), not "CSV UTF-8"
        "task,plan,clause,title,text,lead,owners,deadline,indicators\np2-01,p1,一,任务,内容,北方局,,持续推进,\n".encode(
            "gbk"
        )
    )
    (folder / "unit_extra.csv").write_text("a,b\n", encoding="utf-8")  # a typo of units_
    return folder


MANY_PROBLEMS = [
    "unit_extra.csv：不认识的文件（目录中可有：units_<地区>.csv、tasks_<计划>.csv、measures.csv、"
    "indicators.csv、scheme_default.csv、plans.csv、regions.csv）",
    "units_north.csv 第3行 列“code”：不能为空",
    "units_north.csv 第4行 列“code”：代码“n1”重复（已见于 units_north.csv 第2行）",
    "units_north.csv 第5行 列“admin_code”：行政区划代码“11000X”应为数字",
    "units_north.csv 第5行 列“kind”：“town”不是可用的取值（可用：district、county、city、special_area、province）",
    "units_north.csv 第5行 列“parent”：所属地区“south”与文件名所示地区“north”不一致",
    "units_north.csv 第5行 列“short_zh”：“北一”与单位 n1（units_north.csv 第2行）的名称或代码相同，"
    "本地区报表的填报单位将无法区分",
    "units_north.csv 第6行 列“code”：代码“city”保留给全地区一行，不能用作单位代码",
    "units_north.csv 第7行 列“name_zh”：不能为空",
    "units_north.csv 第8行 列“code”：代码“n 7”只能由英文字母、数字、下划线或连字符组成",
    "units_south.csv 第3行：本行字段多于表头（多出：oops）",
    "units_south.csv 第4行 列“code”：代码“n1”重复（已见于 units_north.csv 第2行）",
    "measures.csv 第3行 列“name_zh”：“计量甲”与计量项 m_a（measures.csv 第2行）的名称或代码相同，报表的项目名称将无法区分",
    "measures.csv 第3行 列“kind”：“monthly”不是可用的取值（可用：flow、stock、annual）",
    "measures.csv 第3行 列“dtype”：“float”不是可用的取值（可用：int、decimal）",
    "measures.csv 第3行 列“max”：上限“-1”不是非负数",
    "indicators.csv 第3行 列“direction”：“up”不是可用的取值（可用：higher、lower）",
    "indicators.csv 第3行 列“numerator”：公式“avg(m_a)”无法解析（每项写作 sum(计量项)、end(计量项)、"
    "year(计量项) 或 count(…)，以 + 相连）",
    "indicators.csv 第3行 列“denominator”：公式使用了未知的计量项“m_zz”",
    "scheme_default.csv 第2行 列“weight”：权重“abc”不是正数",
    "scheme_default.csv 第3行 列“indicator”：未知指标“i_zz”",
    "scheme_default.csv 第4行 列“indicator”：指标“i_a”重复（已见于 scheme_default.csv 第2行）",
    "scheme_default.csv 第4行 列“method”：不能为空",
    "regions.csv 第1行 列“name_zh”：缺少列",
    "regions.csv 第1行 列“benchmark_zh”：缺少列",
    "regions.csv 第1行 列“name”：多余的列（应有：region,name_zh,benchmark_zh）",
    "tasks_p2.csv 第2行：不是 UTF-8 编码（请另存为“CSV UTF-8”）",
    "plans.csv 第3行 列“issued”：日期“2024-02-30”应写作 YYYY-MM-DD",
    "plans.csv 第4行 列“region”：地区“east”没有单位文件（units_east.csv）",
    "tasks_p1.csv 第3行 列“plan”：计划“p9”不在 plans.csv 中",
    "tasks_p1.csv 第4行 列“indicators”：未知指标“i_zz”",
    "tasks_p1.csv 第4行 列“owners”：责任单位“n99”像单位代码，但目录中没有这个单位",
    "tasks_p1.csv 第4行 列“owners”：责任单位“wanning”像单位代码，但目录中没有这个单位",
    "tasks_p1.csv 第4行 列“deadline”：完成时限“下个月”无法识别（如 2025-12-31、2025年12月底、持续推进）",
    "tasks_p1.csv 第5行 列“lead”：责任单位“南一区政府”对应单位 s1（south），不属于该计划的地区“north”",
    "tasks_p1.csv 第6行 列“task”：代码“p1-01”重复（已见于 tasks_p1.csv 第2行）",
]


def test_every_problem_of_a_folder_is_named(tmp_path: Path) -> None:
    folder = write_bad_folder(tmp_path / "bad")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    assert [str(p) for p in caught.value.problems] == MANY_PROBLEMS
    assert caught.value.text().splitlines()[0] == f"单位与指标目录 {folder} 有 36 处问题，无法使用："


def test_a_missing_empty_or_wrong_folder(tmp_path: Path) -> None:
    def problems(folder: Path) -> list[str]:
        with pytest.raises(CatalogueError) as caught:
            load_catalogue(folder)
        return [str(p) for p in caught.value.problems]

    assert problems(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}：目录不存在"]
    (tmp_path / "a-file").write_text("x", "utf-8")
    assert problems(tmp_path / "a-file") == [f"{tmp_path / 'a-file'}：不是文件夹"]
    (tmp_path / "empty").mkdir()
    assert problems(tmp_path / "empty") == [
        f"{tmp_path / 'empty'}：文件夹中没有单位文件（units_<地区>.csv），至少需要一个"
    ]
    header_only = tmp_path / "header-only"
    header_only.mkdir()
    (header_only / "units_x.csv").write_text(
        "code,admin_code,name_zh,short_zh,name_en,kind,parent\n", "utf-8"
    )
    (header_only / "measures.csv").write_text("", "utf-8")
    assert problems(header_only) == ["units_x.csv：文件中没有数据行", "measures.csv：文件为空，缺少表头"]


def test_removing_a_unit_the_built_in_plan_tasks_name_is_named(tmp_path: Path) -> None:
    """Without 静安 the built-in seed-004 tasks (all led by 静安区知识产权局, lines 2–9 of
    tasks_004.csv) would silently lose their owner."""
    folder = tmp_path / "catalogue"
    folder.mkdir()
    lines = (BUILT_IN_DIR / "units_shanghai.csv").read_text("utf-8").splitlines(keepends=True)
    (folder / "units_shanghai.csv").write_text(
        "".join(x for x in lines if not x.startswith("jingan,")), "utf-8"
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    hint = "（在目录文件夹中放入自己的 plans.csv 与 tasks_*.csv，即不再使用内置的计划任务）"
    assert [str(p) for p in caught.value.problems] == [
        f"（内置）tasks_004.csv 第{line}行 列“lead”：责任单位“静安区知识产权局”对应的单位 jingan 不在目录中{hint}"
        for line in range(2, 10)
    ]
    # the folder's own (empty) plan tasks replace the built-in ones
    (folder / "plans.csv").write_text("plan,doc_no,title,issued,region\n", "utf-8")
    assert load_catalogue(folder).tasks.tasks == {}


def test_the_command_line_and_the_server_refuse_a_bad_folder(tmp_path: Path) -> None:
    folder = write_bad_folder(tmp_path / "bad")
    env = {"IPDASH_CATALOGUE_DIR": str(folder), "IPDASH_ERROR_LOG": str(tmp_path / "errors.log")}
    # the setting is checked with the folder: IPDASH_REGION is unset, so shanghai, not a region here
    region = "IPDASH_REGION：设置 IPDASH_REGION=“shanghai”不是目录中的地区（可用：north、south）"
    expected = "\n".join(
        [
            f"错误：单位与指标目录 {folder} 有 37 处问题，无法使用：",
            *(f"  - {p}" for p in [*MANY_PROBLEMS, region]),
        ]
    )
    for argv in (
        ("indicators", "--period", "2024-03"),
        ("serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--port", "0"),
    ):
        done = cli(*argv, env=env, timeout=120)
        assert (done.returncode, done.stdout, done.stderr.strip()) == (2, "", expected), argv
    assert not (tmp_path / "x.db").exists()  # the server did not start, nothing written


def test_the_app_factory_refuses_a_bad_folder(tmp_path: Path) -> None:
    from dashboard.app import create_app

    folder = write_bad_folder(tmp_path / "bad")
    with pytest.raises(CatalogueError) as caught:
        create_app(f"sqlite:///{tmp_path / 'x.db'}", Settings(catalogue_dir=folder, region="north"))
    assert [str(p) for p in caught.value.problems] == MANY_PROBLEMS


# --- the dashboard ------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_dashboard_pickers_follow_the_folder(dash_duo, tmp_path: Path) -> None:  # noqa: ANN001
    from auth_support import make_accounts
    from browser_support import click, console_errors, sign_in_browser, start, wait_for

    from dashboard.app import create_app

    folder = write_folder(tmp_path / "catalogue")
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    env = {"IPDASH_CATALOGUE_DIR": str(folder), "IPDASH_ERROR_LOG": str(tmp_path / "errors.log")}
    done = cli("load", "--db", url, *map(str, write_returns(tmp_path / "returns")), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    app = create_app(url, Settings(catalogue_dir=folder, region="hainan"))  # installs the folder
    make_accounts(url)
    base = start(dash_duo, app)
    sign_in_browser(dash_duo, base, "analyst1")
    dash_duo.driver.get(base + "/unit/sanya?region=hainan&window=month&period=2024-03")
    dash_duo.wait_for_element("#unit-select", timeout=30)

    def options(selector: str) -> list[str]:
        click(dash_duo, selector)
        texts = wait_for(
            lambda: [
                e.text for e in dash_duo.driver.find_elements("css selector", "[role=option]") if e.text
            ],
            message=f"{selector} options",
        )
        dash_duo.driver.find_element("css selector", "body").send_keys("\ue00c")  # Escape closes it
        wait_for(lambda: not dash_duo.driver.find_elements("css selector", "[role=option]"), message="closed")
        return texts

    assert options("#filter-region") == ["海南省", "上海市"]  # by code; 安徽省 is not in the folder
    assert options("#unit-select") == ["海口市", "三亚市", "儋州市"]
    dash_duo.wait_for_contains_text("#unit-heading", "海南省", timeout=30)
    assert console_errors(dash_duo) == []
