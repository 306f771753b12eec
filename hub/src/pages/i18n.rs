//! Every string the pages show, in one table per language: Chinese by default,
//! English on request (`?lang=en` once, then the `lang` cookie). The struct is
//! declared by a macro that also lists its words, so a test can check that every key
//! has both languages.

use actix_web::HttpRequest;

use crate::api::{
    ActionKind, Cover, Direction, IncidentStatus, Material, Outcome, Papers, Severity,
};

/// The cookie that keeps the chosen language.
pub const LANG_COOKIE: &str = "lang";

macro_rules! words {
    ($($key:ident),* $(,)?) => {
        /// The words of one language.
        pub struct Ui {
            /// `lang` attribute of the page, and the value of the `lang` cookie.
            pub lang: &'static str,
            $(pub $key: &'static str,)*
            pub statuses: [&'static str; 4],
            pub severities: [&'static str; 3],
            pub outcomes: [&'static str; 7],
            pub action_names: [&'static str; 4],
            pub directions: [&'static str; 3],
            pub covers: [&'static str; 5],
            pub materials: [&'static str; 4],
            pub papers_names: [&'static str; 3],
            /// Known incident kinds; others show as sent.
            pub kinds: &'static [(&'static str, &'static str)],
        }

        impl Ui {
            /// Every single word as (key, text), for the completeness test.
            pub fn words(&self) -> Vec<(&'static str, &'static str)> {
                let mut w = vec![$((stringify!($key), self.$key)),*];
                let arrays: [(&'static str, &[&'static str]); 8] = [
                    ("statuses", &self.statuses),
                    ("severities", &self.severities),
                    ("outcomes", &self.outcomes),
                    ("action_names", &self.action_names),
                    ("directions", &self.directions),
                    ("covers", &self.covers),
                    ("materials", &self.materials),
                    ("papers_names", &self.papers_names),
                ];
                for (k, a) in arrays {
                    w.extend(a.iter().map(|s| (k, *s)));
                }
                w.extend(self.kinds.iter().map(|(_, s)| ("kinds", *s)));
                w
            }
        }
    };
}
words!(
    app,
    login_title,
    name,
    password,
    log_in,
    log_out,
    login_failed,
    queue,
    plate_search,
    all,
    no_plate,
    no_photo,
    plate,
    checkpoint,
    county,
    kind,
    severity,
    status,
    age,
    seen_at,
    lane,
    direction,
    cargo,
    no_incidents,
    older,
    incident,
    photo,
    plate_crop,
    load_crop,
    passage_pending,
    history,
    no_history,
    actions,
    team,
    outcome,
    tonnes,
    fine_yuan,
    legal_basis,
    legal_basis_hint,
    papers,
    quality_report,
    sample_no,
    note,
    reason,
    reason_hint,
    reason_required,
    from,
    to,
    search,
    no_passages,
    timeline_of,
    timeline_link,
    incident_reason,
    error,
    back,
    just_now,
    minutes_ago,
    hours_ago,
    days_ago,
    live,
    lists,
    list_reason,
    whitelist,
    hotlist,
    company,
    expires_at,
    expired,
    added_by,
    add,
    remove,
    import_csv,
    import_hint,
    export_csv,
    imported,
    rejected,
    row,
    field,
    why,
    version,
    reports,
    day,
    county_total,
    passages,
    incidents,
    kind_other,
    tips,
    rewards_due,
    rewards_paid,
    download_csv,
    show,
    incidents_per_day,
    outcomes_chart,
    no_data,
    audit,
    when,
    who,
    what,
    detail,
    switch_lang,
);
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
    legal_basis: "处罚依据",
    legal_basis_hint: "例如：《大气污染防治法》第一百一十六条",
    papers: "放行依据",
    quality_report: "质检报告编号",
    sample_no: "样品编号",
    note: "备注",
    reason: "查询原因",
    reason_hint: "例如：举报核查 12315-0412",
    reason_required: "查询车牌必须填写原因（将记入审计日志）",
    from: "从",
    to: "至",
    search: "查询",
    no_passages: "该时段内无过车记录",
    timeline_of: "过车轨迹",
    timeline_link: "查看该车全部过车轨迹",
    incident_reason: "事件核查",
    error: "出错了",
    back: "返回",
    just_now: "刚刚",
    minutes_ago: "分钟前",
    hours_ago: "小时前",
    days_ago: "天前",
    live: "实时更新",
    lists: "名单",
    list_reason: "列入原因",
    whitelist: "保供车辆白名单",
    hotlist: "布控名单",
    company: "保供企业",
    expires_at: "到期时间",
    expired: "已过期",
    added_by: "添加人",
    add: "添加",
    remove: "删除",
    import_csv: "导入 CSV",
    import_hint: "粘贴 CSV：首行为 plate,reason,company,expires_at",
    export_csv: "导出 CSV",
    imported: "已导入",
    rejected: "未导入的行",
    row: "行",
    field: "字段",
    why: "原因",
    version: "版本",
    reports: "台账",
    day: "日期",
    county_total: "全县合计",
    passages: "过车",
    incidents: "事件",
    kind_other: "其他",
    tips: "举报",
    rewards_due: "应付奖励",
    rewards_paid: "已付奖励",
    download_csv: "下载 CSV",
    show: "显示",
    incidents_per_day: "每日事件（按类型）",
    outcomes_chart: "处置结果",
    no_data: "该时段无数据",
    audit: "审计日志",
    when: "时间",
    who: "操作人",
    what: "操作",
    detail: "详情",
    switch_lang: "English",
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
    papers_names: [
        "保供企业配送",
        "无烟1号（附质检报告）",
        "兰炭（附质检报告）",
    ],
    kinds: &[
        ("suspected_loose_coal", "疑似散煤"),
        ("uncovered_load", "未苫盖"),
        ("partly_covered_load", "苫盖不严"),
        ("hotlist_hit", "布控车辆"),
        ("no_plate", "无车牌"),
    ],
};

/// English.
pub static EN: Ui = Ui {
    lang: "en",
    app: "Loose-coal checkpoints",
    login_title: "Log in",
    name: "User name",
    password: "Password",
    log_in: "Log in",
    log_out: "Log out",
    login_failed: "Wrong user name or password",
    queue: "Incident queue",
    plate_search: "Plate search",
    all: "All",
    no_plate: "No plate",
    no_photo: "No photo",
    plate: "Plate",
    checkpoint: "Checkpoint",
    county: "County",
    kind: "Kind",
    severity: "Severity",
    status: "Status",
    age: "Age",
    seen_at: "Passed at",
    lane: "Lane",
    direction: "Direction",
    cargo: "Load",
    no_incidents: "No incidents",
    older: "Older incidents",
    incident: "Incident",
    photo: "Full frame",
    plate_crop: "Plate close-up",
    load_crop: "Load close-up",
    passage_pending: "The passage has not arrived yet",
    history: "History",
    no_history: "Nothing done yet",
    actions: "Actions",
    team: "Team sent",
    outcome: "Outcome",
    tonnes: "Seized (tonnes)",
    fine_yuan: "Fine (yuan)",
    legal_basis: "Legal basis",
    legal_basis_hint: "e.g. Air Pollution Law art. 116",
    papers: "Papers",
    quality_report: "Quality report number",
    sample_no: "Sample number",
    note: "Note",
    reason: "Reason",
    reason_hint: "e.g. tip check 12315-0412",
    reason_required: "A plate search needs a reason (it goes to the audit log)",
    from: "From",
    to: "To",
    search: "Search",
    no_passages: "No passages in this period",
    timeline_of: "timeline",
    timeline_link: "This plate's passages at every checkpoint",
    incident_reason: "incident check",
    error: "Something went wrong",
    back: "Back",
    just_now: "just now",
    minutes_ago: "min ago",
    hours_ago: "h ago",
    days_ago: "days ago",
    live: "Live",
    lists: "Lists",
    list_reason: "Reason",
    whitelist: "Licensed supply whitelist",
    hotlist: "Hotlist",
    company: "Company",
    expires_at: "Expires",
    expired: "expired",
    added_by: "Added by",
    add: "Add",
    remove: "Remove",
    import_csv: "Import CSV",
    import_hint: "Paste CSV: header plate,reason,company,expires_at",
    export_csv: "Export CSV",
    imported: "Imported",
    rejected: "Rejected rows",
    row: "Row",
    field: "Field",
    why: "Why",
    version: "Version",
    reports: "Reports",
    day: "Day",
    county_total: "County total",
    passages: "Passages",
    incidents: "Incidents",
    kind_other: "Other",
    tips: "Tips",
    rewards_due: "Rewards due",
    rewards_paid: "Rewards paid",
    download_csv: "Download CSV",
    show: "Show",
    incidents_per_day: "Incidents per day, by kind",
    outcomes_chart: "Outcomes",
    no_data: "No data for this period",
    audit: "Audit log",
    when: "When",
    who: "Who",
    what: "What",
    detail: "Detail",
    switch_lang: "中文",
    statuses: ["New", "Claimed", "Dispatched", "Closed"],
    severities: ["Low", "Medium", "High"],
    outcomes: [
        "Stopped",
        "Turned back",
        "Sampled",
        "Coal seized",
        "Fined",
        "Released with papers",
        "False alarm",
    ],
    action_names: ["Claim", "Dispatch", "Record outcome", "Add note"],
    directions: ["Inbound", "Outbound", "Unknown"],
    covers: ["Empty", "Open", "Partly covered", "Tarped", "Box or tank"],
    materials: ["Coal-like", "Briquettes", "Other bulk", "None"],
    papers_names: [
        "Licensed supply delivery",
        "Anthracite (quality report)",
        "Semi-coke (quality report)",
    ],
    kinds: &[
        ("suspected_loose_coal", "Suspected loose coal"),
        ("uncovered_load", "Uncovered load"),
        ("partly_covered_load", "Partly covered load"),
        ("hotlist_hit", "Hotlist hit"),
        ("no_plate", "No plate"),
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
    pub fn papers(&self, p: Papers) -> &'static str {
        self.papers_names[Papers::ALL.iter().position(|x| *x == p).unwrap_or(0)]
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
    /// The label of an outcome's form field (see `Outcome::fields`).
    pub fn field(&self, name: &str) -> &'static str {
        match name {
            "tonnes" => self.tonnes,
            "fine_yuan" => self.fine_yuan,
            "legal_basis" => self.legal_basis,
            "papers" => self.papers,
            "quality_report" => self.quality_report,
            "sample_no" => self.sample_no,
            _ => self.note,
        }
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
    /// The language one switches to from this one.
    pub fn other(&self) -> &'static Ui {
        if self.lang == EN.lang {
            &ZH
        } else {
            &EN
        }
    }
}

/// The table of a `lang` value: `en` is English, anything else Chinese.
pub fn by_code(code: &str) -> &'static Ui {
    if code == "en" || code == EN.lang {
        &EN
    } else {
        &ZH
    }
}

/// The language of a request: `?lang=` first, then the `lang` cookie, then Chinese.
pub fn lang_of(req: &HttpRequest) -> &'static Ui {
    let asked = req
        .query_string()
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="));
    match asked {
        Some(code) => by_code(code),
        None => req.cookie(LANG_COOKIE).map_or(&ZH, |c| by_code(c.value())),
    }
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
    /// The page words of the same language.
    pub ui: &'static Ui,
}

/// 举报线索 (default).
pub static TIPS_ZH: TipWords = TipWords {
    ui: &ZH,
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
    ui: &EN,
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

/// The tip-line words in the request's language (English for `en`, else Chinese).
pub fn tip_words(t: &Ui) -> &'static TipWords {
    if t.lang == "en" {
        &TIPS_EN
    } else {
        &TIPS_ZH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        let (zh, en) = (ZH.words(), EN.words());
        assert_eq!(zh.len(), en.len());
        assert_eq!(ZH.kinds.len(), EN.kinds.len());
        for ((k, z), (k2, e)) in zh.iter().zip(&en) {
            assert_eq!(k, k2);
            assert!(!z.trim().is_empty(), "{k}: no Chinese");
            assert!(!e.trim().is_empty(), "{k}: no English");
            // The switch names the *other* language, so it is the one key whose English
            // table shows Chinese.
            if *k != "switch_lang" {
                assert!(
                    !e.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{k}: English text has Chinese: {e}"
                );
            }
        }
        for ((k1, _), (k2, _)) in ZH.kinds.iter().zip(EN.kinds) {
            assert_eq!(k1, k2);
        }
    }

    #[test]
    fn the_language_follows_query_then_cookie() {
        use actix_web::cookie::Cookie;
        use actix_web::test::TestRequest;
        let req = TestRequest::default().to_http_request();
        assert_eq!(lang_of(&req).lang, "zh-CN");
        let req = TestRequest::default()
            .cookie(Cookie::new(LANG_COOKIE, "en"))
            .to_http_request();
        assert_eq!(lang_of(&req).lang, "en");
        let req = TestRequest::with_uri("/?lang=zh")
            .cookie(Cookie::new(LANG_COOKIE, "en"))
            .to_http_request();
        assert_eq!(lang_of(&req).lang, "zh-CN");
    }
}
