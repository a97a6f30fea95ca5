"""A few alarms that cost cents: API 5xx, authorizer errors, failed workflow executions.

Alarms notify the SNS topic given in context `alarmTopicArn` (an existing topic, e.g. one with
an e-mail subscription); without it they only change state in the CloudWatch console.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

FIVE_MINUTES = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        rest_api: apigw.RestApi,
        authorizer: lambda_.IFunction,
        state_machines: Mapping[str, sfn.StateMachine],
        alarm_topic_arn: str = "",
    ) -> None:
        super().__init__(scope, id)
        self.alarms: list[cloudwatch.Alarm] = []
        self._add(
            "Api5xx",
            rest_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            threshold=5,
            description="Kiln API answered 5 or more 5xx responses in 5 minutes",
        )
        self._add(
            "AuthorizerErrors",
            authorizer.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            description="Kiln authorizer raised errors (callers get 503 SERVICE_UNAVAILABLE)",
        )
        for name, machine in state_machines.items():
            self._add(
                f"Workflow{name.capitalize()}Failed",
                machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description=f"Kiln workflow {name} had failed executions",
            )
        if alarm_topic_arn:
            topic = sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic_arn)
            for alarm in self.alarms:
                alarm.add_alarm_action(actions.SnsAction(topic))

    def _add(self, id: str, metric: cloudwatch.Metric, *, threshold: float, description: str) -> None:
        self.alarms.append(
            cloudwatch.Alarm(
                self,
                id,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
        )
