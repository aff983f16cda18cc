"""Every component id of the dashboard, in one place, so layouts and callbacks cannot drift apart.

Ids of components that exist on several pages at once are pattern-matching dicts (``NAV_LINK``,
``QUERY_PARAM``); the rest are plain strings, prefixed by their page.
"""

from __future__ import annotations

# Dash Pages' own location component; our callbacks read it to learn the URL.
PAGES_LOCATION = "_pages_location"

# --- the shell: header, navigation, filters ------------------------------------------------------
URL_RELOAD = "url-reload"  # a dcc.Store: an address to navigate to in full (a region change)
URL_RELOAD_DONE = "url-reload-done"  # the hidden output of that navigation's clientside callback
URL_WRITE = "url-write"  # a second dcc.Location (refresh=False) that rewrites the query silently
NAV_LINK = "nav-link"  # {"type": NAV_LINK, "page": <module name>}
FILTER_REGION = "filter-region"
FILTER_WINDOW = "filter-window"
FILTER_PERIOD = "filter-period"
FILTER_BAR = "filter-bar"
SHELL_ALERT = "shell-alert"

# A page control whose value belongs in the URL: {"type": QUERY_PARAM, "name": "indicator"}.
# Pages that share a parameter share the id (排名/趋势 "indicator", 对比/趋势 "units"), so the
# choice carries across; a callback must therefore not *output* to such an id, or Dash would
# run it on the other page too.
QUERY_PARAM = "query-param"

# --- 总览 overview -------------------------------------------------------------------------------
OV_ALERT = "ov-alert"
OV_HEADING = "ov-heading"
OV_CARDS = "ov-cards"
OV_MISSING = "ov-missing"
OV_TOP = "ov-top"
OV_BOTTOM = "ov-bottom"

# --- 排名 rankings -------------------------------------------------------------------------------
RK_ALERT = "rk-alert"
RK_INDICATOR = {"type": QUERY_PARAM, "name": "indicator"}
RK_GRAPH = "rk-graph"
RK_GRID = "rk-grid"
RK_NOTE = "rk-note"

# --- 对比 comparison -----------------------------------------------------------------------------
CMP_ALERT = "cmp-alert"
CMP_MODE = {"type": QUERY_PARAM, "name": "mode"}
CMP_HEATMAP = "cmp-heatmap"
CMP_UNITS = {"type": QUERY_PARAM, "name": "units"}
CMP_PROFILE = "cmp-profile"
CMP_PROFILE_TABLE = "cmp-profile-table"

# --- 趋势 trends ---------------------------------------------------------------------------------
TR_ALERT = "tr-alert"
TR_INDICATOR = {"type": QUERY_PARAM, "name": "indicator"}
TR_UNITS = {"type": QUERY_PARAM, "name": "units"}
TR_MONTHLY = "tr-monthly"
TR_YTD = "tr-ytd"

# --- 区详情 unit page ----------------------------------------------------------------------------
UNIT_ALERT = "unit-alert"
UNIT_CODE = "unit-code"  # dcc.Store holding the unit of the page (from the path)
UNIT_SELECT = "unit-select"
UNIT_HEADING = "unit-heading"
UNIT_SCORECARD = "unit-scorecard"
UNIT_SPARKS = "unit-sparks"
UNIT_SUBMISSIONS = "unit-submissions"
# The view a page was drawn for (region, window, period) and the view the filters ask for: the
# first view is drawn with the page's layout, so the filters arriving from the URL ask for nothing
# more (``components.view_gate``).
UNIT_VIEW_SHOWN = "unit-view-shown"
UNIT_VIEW_WANTED = "unit-view-wanted"
OV_VIEW_SHOWN = "ov-view-shown"
OV_VIEW_WANTED = "ov-view-wanted"
CMP_VIEW_SHOWN = "cmp-view-shown"
CMP_VIEW_WANTED = "cmp-view-wanted"
ST_VIEW_SHOWN = "st-view-shown"
ST_VIEW_WANTED = "st-view-wanted"

# --- 上传 upload ---------------------------------------------------------------------------------
UP_TEMPLATE_UNIT = "up-template-unit"
UP_TEMPLATE_MONTH = "up-template-month"
UP_TEMPLATE_BUTTON = "up-template-button"
UP_TEMPLATE_DOWNLOAD = "up-template-download"
UP_TEMPLATE_ALERT = "up-template-alert"
UP_USER = "up-user"
UP_AS_UNIT = "up-as-unit"
UP_UPLOAD = "up-upload"
UP_LIMITS = "up-limits"  # carries the size limit and its message to the browser-side check
UP_SIZE_NOTE = "up-size-note"
UP_PENDING = "up-pending"  # dcc.Store: files checked but not loaded yet (base64), on the client
UP_REPORT = "up-report"
UP_CONFIRM = "up-confirm"
UP_CLEAR = "up-clear"
UP_RESULT = "up-result"
UP_ANNOTATE = "up-annotate"  # {"type": UP_ANNOTATE, "index": i}
UP_ANNOTATED_DOWNLOAD = "up-annotated-download"

# 报送情况 (tracker page)
ST_HEADING = "st-heading"
ST_ALERT = "st-alert"
ST_SUMMARY = "st-summary"
ST_GRID = "st-grid"
ST_DETAIL = "st-detail"
ST_EXPORT_UNIT = "st-export-unit"
ST_EXPORT_BUTTON = "st-export-button"
ST_EXPORT_DOWNLOAD = "st-export-download"
ST_EXPORT_ALERT = "st-export-alert"

# --- accounts (issue 9) ---
ACCOUNT_NAME = "account-name"
LOGOUT = "logout-button"

# --- the review loop (issue 9): 报送情况's queue, 区详情's own return ---
RV_CARD = "rv-card"
RV_QUEUE = "rv-queue"
RV_PICK = "rv-pick"
RV_DETAIL = "rv-detail"
RV_REASON = "rv-reason"
RV_APPROVE = "rv-approve"
RV_RETURN = "rv-return"
RV_RESULT = "rv-result"
RV_DONE = "rv-done"
UNIT_REVIEW = "unit-review"
UX_TEXT = "ux-text"  # pattern-matching: one input per warning
UX_SAVE = "ux-save"
UX_RESULT = "ux-result"
UX_DONE = "ux-done"

# the 通报 download (排名) and the rank explanation (区详情)
RK_BRIEFING_BUTTON = "rk-briefing-button"
RK_BRIEFING_DOWNLOAD = "rk-briefing-download"
RK_BRIEFING_ALERT = "rk-briefing-alert"
UNIT_EXPLAIN = "unit-explain"
# bumped after an upload loaded something: the shell rebuilds the months on offer
DATA_CHANGED = "data-changed"
