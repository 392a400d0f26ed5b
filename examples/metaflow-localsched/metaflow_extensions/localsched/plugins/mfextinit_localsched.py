CLIS_DESC = [("localsched", ".localsched.localsched_cli.cli")]
DEPLOYER_IMPL_PROVIDERS_DESC = [
    ("localsched", ".localsched.localsched_deployer.LocalschedDeployer"),
]
