# ruff: noqa: E501 -- the long lines are YAML (ARNs, conditions) written verbatim.
"""The SAM YAML every rotation function's stack shares: its role's core and its invoke permission.

One writer for the pack's functions (``templates/generate.py``) and for a service's own
(``rotation init-service``), so the least-privilege grants users copy are the ones the project
validates. Standard library only: ``templates/generate.py`` loads this file by path, with or
without ``rotation`` installed.
"""

from __future__ import annotations


def role_core(function_name: str) -> str:
    """Return the role's trust policy and its two grants every function needs, as role properties.

    The grants: writing to the function's own log group, and reading and staging only the
    secrets whose rotation is configured to call this very function.

    Args:
        function_name: The function's name as it goes in a ``!Sub`` string, such as
            ``${FunctionName}``. By name rather than ``!GetAtt``: the function refers to the
            role, so the role cannot refer to the function.
    """
    return f"""\
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: logs
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                # By name: the log group refers to the function, which refers to this role.
                Resource: !Sub arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{function_name}:*
        # Only the secrets whose rotation is configured to call this very function (the
        # unqualified ARN, built from the name to avoid a role <-> function cycle).
        - PolicyName: rotated-secrets
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action:
                  - secretsmanager:DescribeSecret
                  - secretsmanager:GetSecretValue
                  - secretsmanager:PutSecretValue
                  - secretsmanager:UpdateSecretVersionStage
                Resource: !Sub arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:*
                Condition:
                  StringEquals:
                    secretsmanager:resource/AllowRotationLambdaArn: !Sub arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{function_name}
"""


def invoke_permission(logical_id: str, condition: str = "") -> str:
    """Return the permission that lets Secrets Manager, from this account only, call the function.

    Args:
        logical_id: The function's logical id.
        condition: The template condition both live under, if any.
    """
    condition_line = f"    Condition: {condition}\n" if condition else ""
    return f"""\
  {logical_id}InvokePermission:
    Type: AWS::Lambda::Permission
{condition_line}    Properties:
      FunctionName: !GetAtt {logical_id}.Arn
      Action: lambda:InvokeFunction
      Principal: secretsmanager.amazonaws.com
      SourceAccount: !Ref AWS::AccountId
"""
