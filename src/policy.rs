//! The *policy* stage of the sink chain: what the user decided about findings, applied to each
//! audited page before it is counted or written. The config file's `ignore_paths`, `ignore_links`
//! and `[severity]` overrides, the `--notices` setting, then the `--baseline` of known findings,
//! in that order.

use crate::baseline::{Baseline, BaselineCounts};
use crate::config::Config;
use crate::findings::PageReport;

/// The user's decisions about findings, for one run.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    config: Config,
    notices: bool,
    baseline: Option<Baseline>,
}

impl Policy {
    /// The policy of `config`, with notice-level findings reported when `notices` (the effective
    /// `--notices` setting), and only findings not in `baseline` reported when one is given.
    pub fn new(config: &Config, notices: bool, baseline: Option<Baseline>) -> Self {
        Policy {
            config: config.clone(),
            notices,
            baseline,
        }
    }

    /// Applies the policy to one page. Returns false, with the page emptied, when `ignore_paths`
    /// ignores it (it is then neither counted nor written).
    pub fn apply(&mut self, page: &mut PageReport) -> bool {
        if self.config.ignores_page(&page.page_url) {
            page.findings.clear();
            page.links.clear();
            return false;
        }
        self.config.apply_to(page, self.notices);
        if let Some(b) = self.baseline.as_mut() {
            b.filter(page);
        }
        true
    }

    /// The baseline's counts so far (baselined, fixed, unvisited), when there is a baseline.
    pub fn baseline_counts(&self) -> Option<BaselineCounts> {
        self.baseline.as_ref().map(Baseline::counts)
    }
}
