"""The roles a staff member may hold (a person may hold several), in the
business's words. Every RPC contract names the roles allowed to call it
(``registry.rpc(..., roles=...)``); ``OPEN`` marks the few that need no
login (``health``, the login itself)."""

CLERK = "clerk"                          # 客服员
TEAM_LEAD = "team_lead"                  # 领班 (another department)
CUSTODIAN = "custodian"                  # 失物招领负责人
SUPERVISOR = "supervisor"                # 督导
LEAD = "lead"                            # 游客服务中心负责人
SECTION_HEAD = "section_head"            # 部室负责人
DEPARTMENT_MANAGER = "department_manager"  # 部门经理
DUTY_MANAGER = "duty_manager"            # 值班经理
FINANCE = "finance"                      # 财务
SAFETY_OFFICER = "safety_officer"        # 部室安全管理员
ASSET_OFFICER = "asset_officer"          # 部室资产管理员
AUDITOR = "auditor"                      # internal audit: read-only
ADMIN = "admin"                          # staff accounts

#: role -> (Chinese, English)
ROLES = {
    CLERK: ("客服员", "desk clerk"),
    TEAM_LEAD: ("领班", "team lead"),
    CUSTODIAN: ("失物招领负责人", "lost-and-found custodian"),
    SUPERVISOR: ("督导", "supervisor"),
    LEAD: ("游客服务中心负责人", "visitor service center lead"),
    SECTION_HEAD: ("部室负责人", "section head"),
    DEPARTMENT_MANAGER: ("部门经理", "department manager"),
    DUTY_MANAGER: ("值班经理", "duty manager"),
    FINANCE: ("财务", "finance"),
    SAFETY_OFFICER: ("部室安全管理员", "section safety officer"),
    ASSET_OFFICER: ("部室资产管理员", "section asset officer"),
    AUDITOR: ("审计", "auditor"),
    ADMIN: ("系统管理员", "administrator"),
}

ALL = frozenset(ROLES)

#: marks an RPC that needs no principal
OPEN = frozenset()

# Groups used by several contracts. Desk work: the people who work a desk
# terminal. Readers of the center's records: desk work plus those who
# supervise or audit it.
DESK = frozenset({CLERK, TEAM_LEAD, CUSTODIAN, LEAD})
OVERSIGHT = frozenset({LEAD, SUPERVISOR, SECTION_HEAD, DEPARTMENT_MANAGER, DUTY_MANAGER, AUDITOR})
READERS = DESK | OVERSIGHT
