//! Every string the pages show, in one table per language. Chinese is the default;
//! an English table is a copy of [`ZH`] with the words changed.

use crate::api::{ActionKind, Cover, Direction, IncidentStatus, Material, Outcome, Severity};

/// The words of one language.
pub struct Ui {
    /// `lang` attribute of the page.
    pub lang: &'static str,
    pub app: &'static str,
    pub login_title: &'static str,
    pub name: &'static str,
    pub password: &'static str,
    pub log_in: &'static str,
    pub log_out: &'static str,
    pub login_failed: &'static str,
    pub queue: &'static str,
    pub plate_search: &'static str,
    pub all: &'static str,
    pub no_plate: &'static str,
    pub no_photo: &'static str,
    pub plate: &'static str,
    pub checkpoint: &'static str,
    pub county: &'static str,
    pub kind: &'static str,
    pub severity: &'static str,
    pub status: &'static str,
    pub age: &'static str,
    pub seen_at: &'static str,
    pub lane: &'static str,
    pub direction: &'static str,
    pub cargo: &'static str,
    pub no_incidents: &'static str,
    pub older: &'static str,
    pub incident: &'static str,
    pub photo: &'static str,
    pub plate_crop: &'static str,
    pub load_crop: &'static str,
    pub passage_pending: &'static str,
    pub history: &'static str,
    pub no_history: &'static str,
    pub actions: &'static str,
    pub team: &'static str,
    pub outcome: &'static str,
    pub tonnes: &'static str,
    pub fine_yuan: &'static str,
    pub note: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub reason_required: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub search: &'static str,
    pub no_passages: &'static str,
    pub timeline_of: &'static str,
    pub error: &'static str,
    pub back: &'static str,
    pub just_now: &'static str,
    pub minutes_ago: &'static str,
    pub hours_ago: &'static str,
    pub days_ago: &'static str,
    pub statuses: [&'static str; 4],
    pub severities: [&'static str; 3],
    pub outcomes: [&'static str; 7],
    pub action_names: [&'static str; 4],
    pub directions: [&'static str; 3],
    pub covers: [&'static str; 5],
    pub materials: [&'static str; 4],
    /// Known incident kinds; others show as sent.
    pub kinds: &'static [(&'static str, &'static str)],
}

/// 中文 (default).
pub static ZH: Ui = Ui {
    lang: "zh-CN",
    app: "散煤查禁卡点",
    login_title: "登录",
    name: "用户名",
    password: "密码",
    log_in: "登录",
    log_out: "退出",
    login_failed: "用户名或密码错误",
    queue: "事件队列",
    plate_search: "车牌查询",
    all: "全部",
    no_plate: "无车牌",
    no_photo: "无照片",
    plate: "车牌",
    checkpoint: "卡点",
    county: "县区",
    kind: "类型",
    severity: "级别",
    status: "状态",
    age: "时间",
    seen_at: "通过时间",
    lane: "车道",
    direction: "方向",
    cargo: "货物",
    no_incidents: "暂无事件",
    older: "更早的事件",
    incident: "事件",
    photo: "全景照片",
    plate_crop: "车牌特写",
    load_crop: "货物特写",
    passage_pending: "过车记录尚未到达",
    history: "处置记录",
    no_history: "尚无处置",
    actions: "处置",
    team: "派往（队伍）",
    outcome: "处置结果",
    tonnes: "查扣（吨）",
    fine_yuan: "罚款（元）",
    note: "备注",
    reason: "查询原因",
    reason_hint: "例如：举报核查 12315-0412",
    reason_required: "查询车牌必须填写原因（将记入审计日志）",
    from: "从",
    to: "至",
    search: "查询",
    no_passages: "该时段内无过车记录",
    timeline_of: "过车轨迹",
    error: "出错了",
    back: "返回",
    just_now: "刚刚",
    minutes_ago: "分钟前",
    hours_ago: "小时前",
    days_ago: "天前",
    statuses: ["新事件", "已认领", "已派出", "已结案"],
    severities: ["低", "中", "高"],
    outcomes: [
        "已拦停",
        "劝返",
        "已抽样",
        "查扣煤炭",
        "罚款",
        "手续齐全放行",
        "误报",
    ],
    action_names: ["认领", "派出", "记录结果", "添加备注"],
    directions: ["驶入", "驶出", "未知"],
    covers: ["空车", "未苫盖", "部分苫盖", "已苫盖", "厢式/罐式"],
    materials: ["疑似煤炭", "型煤", "其他散货", "无"],
    kinds: &[
        ("suspected_loose_coal", "疑似散煤"),
        ("uncovered_load", "未苫盖"),
        ("partly_covered_load", "苫盖不严"),
        ("hotlist_hit", "布控车辆"),
        ("no_plate", "无车牌"),
    ],
};

impl Ui {
    pub fn status(&self, s: IncidentStatus) -> &'static str {
        self.statuses[IncidentStatus::ALL
            .iter()
            .position(|x| *x == s)
            .unwrap_or(0)]
    }
    pub fn severity(&self, s: Severity) -> &'static str {
        self.severities[s as usize]
    }
    pub fn outcome(&self, o: Outcome) -> &'static str {
        self.outcomes[Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0)]
    }
    pub fn action(&self, a: ActionKind) -> &'static str {
        self.action_names[a as usize]
    }
    pub fn direction(&self, d: Direction) -> &'static str {
        self.directions[d as usize]
    }
    pub fn cover(&self, c: Cover) -> &'static str {
        self.covers[c as usize]
    }
    pub fn material(&self, m: Material) -> &'static str {
        self.materials[m as usize]
    }
    /// The label of a kind, or the kind itself when unknown.
    pub fn kind<'a>(&self, kind: &'a str) -> &'a str {
        self.kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(kind, |(_, label)| label)
    }
    /// "5 分钟前" for an age in seconds.
    pub fn ago(&self, secs: i64) -> String {
        match secs {
            s if s < 60 => self.just_now.to_owned(),
            s if s < 3600 => format!("{} {}", s / 60, self.minutes_ago),
            s if s < 86_400 => format!("{} {}", s / 3600, self.hours_ago),
            s => format!("{} {}", s / 86_400, self.days_ago),
        }
    }
}

/// The language of a request (only Chinese for now).
pub fn ui() -> &'static Ui {
    &ZH
}
