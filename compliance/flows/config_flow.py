"""A Config given at deploy time must reach every step, and config_expr must resolve with it."""

from metaflow import Config, FlowSpec, config_expr, environment, step


class ConfigFlow(FlowSpec):
    cfg = Config("cfg", default_value={"alpha": 1, "label": "default"})

    @environment(vars={"MFKIT_LABEL": config_expr("cfg.label")})
    @step
    def start(self):
        import os

        self.alpha = self.cfg.alpha
        self.label_env = os.environ.get("MFKIT_LABEL")
        self.next(self.end)

    @step
    def end(self):
        self.end_alpha = self.cfg.alpha


if __name__ == "__main__":
    ConfigFlow()
