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

/// The words of the tip-line pages, one table per language like [`Ui`]. The pages
/// have no language switch yet: [`tip_words`] answers Chinese, [`TIPS_EN`] is ready
/// for the switch.
pub struct TipWords {
    pub tips: &'static str,
    pub new_tip: &'static str,
    pub rewards: &'static str,
    pub channel: &'static str,
    /// hotline_12315, online, walk_in.
    pub channels: [&'static str; 3],
    pub received_at: &'static str,
    pub received_hint: &'static str,
    pub tipster: &'static str,
    pub tipster_name: &'static str,
    pub tipster_phone: &'static str,
    pub anonymous: &'static str,
    pub real_name: &'static str,
    pub plate_heard: &'static str,
    pub plate_hint: &'static str,
    pub place: &'static str,
    pub window: &'static str,
    pub window_from: &'static str,
    pub window_to: &'static str,
    pub said: &'static str,
    pub file: &'static str,
    /// open, verified, unfounded.
    pub statuses: [&'static str; 3],
    /// done, open, due_soon, overdue.
    pub due_marks: [&'static str; 4],
    pub deadline: &'static str,
    pub crosscheck: &'static str,
    pub no_matches: &'static str,
    /// exact, wildcard, confusable.
    pub match_kinds: [&'static str; 3],
    /// in_county, neighbour.
    pub areas: [&'static str; 2],
    pub verdict: &'static str,
    /// verified, unfounded.
    pub verdicts: [&'static str; 2],
    pub proof: &'static str,
    pub proof_incidents: &'static str,
    pub record_verdict: &'static str,
    pub case: &'static str,
    pub case_tips: &'static str,
    pub suggested: &'static str,
    pub link: &'static str,
    pub case_id: &'static str,
    pub hotlist_add: &'static str,
    pub hotlisted: &'static str,
    pub reward: &'static str,
    pub no_reward: &'static str,
    pub rewardee_tip: &'static str,
    pub yuan: &'static str,
    pub due_by: &'static str,
    pub paid_at: &'static str,
    pub mark_paid: &'static str,
    pub unpaid: &'static str,
    pub overdue: &'static str,
    pub no_tips: &'static str,
    pub no_rewards: &'static str,
    pub export_csv: &'static str,
    pub recorded_by: &'static str,
}

/// 举报线索 (default).
pub static TIPS_ZH: TipWords = TipWords {
    tips: "举报线索",
    new_tip: "登记举报",
    rewards: "奖励台账",
    channel: "来源",
    channels: ["12315 热线", "网络平台", "来访"],
    received_at: "受理时间",
    received_hint: "北京时间；不填为现在",
    tipster: "举报人（保密）",
    tipster_name: "举报人姓名",
    tipster_phone: "举报人电话",
    anonymous: "匿名",
    real_name: "实名",
    plate_heard: "举报车牌（? 代表一个字符，* 代表任意个）",
    plate_hint: "例如 晋A?23* 或 *5678",
    place: "地点",
    window: "时段",
    window_from: "时段开始（北京时间）",
    window_to: "时段结束（北京时间）",
    said: "举报内容",
    file: "登记",
    statuses: ["待核查", "属实", "不属实"],
    due_marks: ["已办结", "办理中", "即将到期", "已超期"],
    deadline: "核查期限",
    crosscheck: "过车比对",
    no_matches: "时段内本县及邻县卡点无匹配过车",
    match_kinds: ["完全一致", "模糊匹配", "易混字符"],
    areas: ["本县", "邻县"],
    verdict: "核查结论",
    verdicts: ["属实", "不属实"],
    proof: "证明",
    proof_incidents: "证明事件编号（每行一个）",
    record_verdict: "提交结论",
    case: "案件",
    case_tips: "本案举报",
    suggested: "可能是同一案件",
    link: "并入案件",
    case_id: "案件编号",
    hotlist_add: "加入布控名单",
    hotlisted: "已布控",
    reward: "奖励",
    no_reward: "无奖励（未核实或无实名举报人）",
    rewardee_tip: "受奖举报",
    yuan: "元",
    due_by: "应付期限",
    paid_at: "支付日期",
    mark_paid: "标记已付",
    unpaid: "未支付",
    overdue: "已逾期",
    no_tips: "暂无举报",
    no_rewards: "暂无奖励",
    export_csv: "导出 CSV",
    recorded_by: "登记人",
};

/// Tip line, English.
pub static TIPS_EN: TipWords = TipWords {
    tips: "Tips",
    new_tip: "New tip",
    rewards: "Rewards",
    channel: "Channel",
    channels: ["12315 hotline", "Online", "Walk-in"],
    received_at: "Received",
    received_hint: "Beijing time; empty for now",
    tipster: "Tipster (confidential)",
    tipster_name: "Tipster's name",
    tipster_phone: "Tipster's phone",
    anonymous: "Anonymous",
    real_name: "Named",
    plate_heard: "Plate as heard (? one character, * any)",
    plate_hint: "e.g. 晋A?23* or *5678",
    place: "Place",
    window: "Window",
    window_from: "From (Beijing time)",
    window_to: "To (Beijing time)",
    said: "What was said",
    file: "File",
    statuses: ["Open", "Verified", "Unfounded"],
    due_marks: ["Done", "Open", "Due soon", "Overdue"],
    deadline: "Deadline",
    crosscheck: "Cross-check",
    no_matches: "No matching passage in or next to the county in the window",
    match_kinds: ["Exact", "Wildcard", "Confusable"],
    areas: ["In county", "Neighbour"],
    verdict: "Verdict",
    verdicts: ["Verified", "Unfounded"],
    proof: "Proof",
    proof_incidents: "Incident ids that prove it (one a line)",
    record_verdict: "Record verdict",
    case: "Case",
    case_tips: "Tips of this case",
    suggested: "Maybe the same case",
    link: "Join case",
    case_id: "Case id",
    hotlist_add: "Put on the hotlist",
    hotlisted: "On the hotlist",
    reward: "Reward",
    no_reward: "No reward (not verified or no named tipster)",
    rewardee_tip: "Rewarded tip",
    yuan: "yuan",
    due_by: "Due by",
    paid_at: "Paid",
    mark_paid: "Mark paid",
    unpaid: "Unpaid",
    overdue: "Overdue",
    no_tips: "No tips",
    no_rewards: "No rewards",
    export_csv: "Export CSV",
    recorded_by: "Recorded by",
};

impl TipWords {
    pub fn channel(&self, c: crate::api::TipChannel) -> &'static str {
        self.channels[c as usize]
    }
    pub fn status(&self, s: crate::api::TipStatus) -> &'static str {
        self.statuses[s as usize]
    }
    pub fn due(&self, d: crate::api::DueMark) -> &'static str {
        self.due_marks[d as usize]
    }
    pub fn match_kind(&self, k: crate::api::MatchKind) -> &'static str {
        self.match_kinds[k as usize]
    }
    pub fn area(&self, a: crate::api::Area) -> &'static str {
        self.areas[a as usize]
    }
    pub fn verdict_name(&self, v: crate::api::VerdictKind) -> &'static str {
        self.verdicts[v as usize]
    }
}

/// The tip-line words of a request (only Chinese for now, like [`ui`]).
pub fn tip_words() -> &'static TipWords {
    &TIPS_ZH
}
