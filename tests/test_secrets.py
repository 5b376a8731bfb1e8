"""The net under library errors: credential values never leave in text."""

from connectors.secrets import MASK, without_secrets

ENV = {
    "JIRA_API_TOKEN": "tok-SECRET-42\n",
    "SERVICENOW_PASSWORD": "hunter2hunter2",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
    "SCORECARD_PUBLISH_URL": "postgresql://bi:pa55word@db/scorecard",
    "AZURE_ACCESS_TOKEN": "abc",  # too short to mask by chance
    "JIRA_BASE_URL": "https://acme.atlassian.net",  # not a credential
}


def test_every_credential_value_is_masked_as_set_and_stripped():
    text = (
        "ValueError: Invalid header value b'Bearer tok-SECRET-42\\n' for "
        "https://acme.atlassian.net (user admin:hunter2hunter2, key wJalrXUtnFEMI/K7MDENG, "
        "publish postgresql://bi:pa55word@db/scorecard) abc"
    )
    assert without_secrets(text, ENV) == (
        f"ValueError: Invalid header value b'Bearer {MASK}\\n' for "
        f"https://acme.atlassian.net (user admin:{MASK}, key {MASK}, publish {MASK}) abc"
    )
    assert without_secrets("nothing to hide", ENV) == "nothing to hide"
