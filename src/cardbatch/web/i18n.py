"""Page labels in Chinese (the default) and English; every key has both."""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

LABELS: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "app_title": ("信用卡批量业务控制台", "Card batch console"),
    "nav_accounts": ("账户", "Accounts"),
    "nav_runs": ("批量运行", "Runs"),
    "nav_audit": ("审计日志", "Audit log"),
    "nav_batches": ("批量文件", "Batches"),
    "switch_lang": ("English", "中文"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "user_name": ("用户名", "User name"),
    "secret": ("API 令牌或密码", "API token or password"),
    "bad_credentials": ("用户名或令牌/密码不正确", "Wrong user name, token or password"),
    "csrf_failed": (
        "请求校验失败（CSRF），请刷新页面后重试",
        "Request check failed (CSRF); reload the page and try again",
    ),
    "forbidden": ("您的角色无权查看此页面", "Your role may not open this page"),
    "not_found": ("未找到", "Not found"),
    "account": ("账户", "Account"),
    "account_id": ("账户编号", "Account id"),
    "open_account": ("查询账户", "Open account"),
    "holder": ("户名", "Holder"),
    "id_number": ("身份证号", "ID number"),
    "phone": ("手机号", "Phone"),
    "card_number": ("卡号", "Card number"),
    "product": ("产品", "Product"),
    "credit_limit": ("信用额度", "Credit limit"),
    "statement_day": ("账单日", "Statement day"),
    "repayment_account": ("还款账户", "Repayment account"),
    "autopay": ("自动还款", "Auto-repayment"),
    "status": ("状态", "Status"),
    "balances": ("余额（按组成）", "Balances by component"),
    "component": ("组成", "Component"),
    "amount": ("金额", "Amount"),
    "balance": ("余额", "Balance"),
    "balance_after": ("交易后余额", "Balance after"),
    "transactions": ("交易明细", "Transaction details"),
    "date": ("日期", "Date"),
    "type": ("类型", "Type"),
    "description": ("摘要", "Description"),
    "run": ("批次", "Run"),
    "statements": ("账单", "Statements"),
    "statement_date": ("账单日期", "Statement date"),
    "due_date": ("到期还款日", "Due date"),
    "opening_balance": ("上期余额", "Opening balance"),
    "closing_balance": ("本期应还", "New balance"),
    "minimum_payment": ("最低还款额", "Minimum payment"),
    "bucket": ("逾期分组", "Bucket"),
    "statement_lines": ("本期账单明细", "Statement lines"),
    "no_statements": (
        "暂无账单数据（账单周期作业尚未运行）",
        "No statements yet (the billing cycle has not run)",
    ),
    "no_transactions": ("暂无交易", "No transactions"),
    "masked_note": ("个人信息已脱敏显示", "Personal data is shown masked"),
    "accounts_list": ("信用卡账户", "Card accounts"),
    "next_page": ("下一页", "Next page"),
    "runs": ("批量运行", "Batch runs"),
    "no_runs": ("暂无运行记录", "No runs yet"),
    "job": ("作业", "Job"),
    "business_date": ("业务日期", "Business date"),
    "progress": ("进度", "Progress"),
    "failed_items": ("失败笔数", "Failed items"),
    "started": ("开始时间", "Started"),
    "finished": ("结束时间", "Finished"),
    "rate": ("速度", "Rate"),
    "eta": ("预计剩余", "ETA"),
    "failures_by_reason": ("失败原因", "Failures by reason"),
    "audit_events": ("审计事件", "Audit events"),
    "actor": ("操作人", "Actor"),
    "action": ("操作", "Action"),
    "subject": ("对象", "Subject"),
    "at": ("时间", "Time"),
    "role": ("角色", "Role"),
    "batches": ("代发代扣批次", "Payment batches"),
    "batch": ("批次", "Batch"),
    "batch_kind": ("类型", "Kind"),
    "kind_payroll": ("代发工资", "Payroll"),
    "kind_collection": ("批量扣费", "Collection"),
    "party_account": ("企业结算账户", "Company account"),
    "batch_file": ("文件", "File"),
    "submit_batch": ("提交文件", "Submit file"),
    "no_batches": ("暂无批次", "No batches yet"),
    "rows": ("笔数", "Rows"),
    "total": ("金额", "Amount"),
    "submitted_by": ("提交人", "Submitted by"),
    "approved_by": ("审批人", "Approved by"),
    "rejected": ("拒绝原因", "Rejected"),
    "succeeded": ("成功", "Succeeded"),
    "reason": ("原因", "Reason"),
    "approve": ("审批通过", "Approve"),
    "run_batch": ("执行", "Run"),
    "download_returns": ("下载回盘文件", "Download return files"),
    "refused": ("操作被拒绝", "Refused"),
    "bad_upload_form": (
        "请选择类型并填写企业账户和业务日期（YYYY-MM-DD）",
        "Choose a kind and fill in the company account and business date (YYYY-MM-DD)",
    ),
}


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return LABELS[key][index]

    return t


def pick_lang(cookie_value: str | None) -> str:
    return cookie_value if cookie_value in LANGS else DEFAULT_LANG
