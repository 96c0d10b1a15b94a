# -*- python -*-
# -*- coding: us-ascii -*-
## "users" mailing list configuration settings
## captured on Tue Mar  5 14:02:11 2024

## General options
#
# Fundamental list characteristics.

# The public name of this list (make case-changes only).
real_name = 'Users'

# The list administrator email addresses.
owner = ['root@example.org', 'Lucia@Example.org']

# The list moderator email addresses.
moderator = ['mod@example.org']

# A terse phrase identifying this list.
description = 'Help for users of Widget'

# An introductory description - a few paragraphs - about the list.
info = """Questions and answers about Widget.
Please search the archive first: it's likely been asked."""

# Prefix for subject line of list postings.
subject_prefix = '[Users %d] '

anonymous_list = 0
first_strip_reply_to = 0

# legal values are:
#    0 = "Poster"
#    1 = "This list"
#    2 = "Explicit address"
reply_goes_to_list = 2
reply_to_address = 'answers@example.org'

umbrella_list = 0
umbrella_member_suffix = '-owner'
send_reminders = 0
welcome_msg = ''
send_welcome_msg = 1
goodbye_msg = ''
send_goodbye_msg = 0
admin_immed_notify = 1
admin_notify_mchanges = 1
respond_to_post_requests = 1
emergency = 0
new_member_options = 256
administrivia = True
max_message_size = 512
host_name = 'lists.example.org'
include_rfc2369_headers = 1
include_list_post_header = 1
from_is_list = 0
dmarc_moderation_action = 1
dmarc_quarantine_moderation_action = 1
max_days_to_hold = 14

## Language options
preferred_language = 'en'
available_languages = ['en', 'de']
encode_ascii_prefixes = 0

## Nondigest options
nondigestable = 1
msg_header = ''
msg_footer = """_______________________________________________
%(real_name)s mailing list -- 50%% off nothing, costs $0
%(real_name)s@%(host_name)s
%(web_page_url)slistinfo%(cgiext)s/%(_internal_name)s
Unsubscribe or change options: %(user_optionsurl)s"""
scrub_nondigest = False

## Digest options
digestable = 1
mime_is_default_digest = 0
digest_size_threshhold = 30
digest_send_periodic = 1
digest_volume_frequency = 3
digest_header = ''
digest_footer = """%(real_name)s digest footer"""

## Privacy options
advertised = 1
# 0 = None, 1 = Confirm, 2 = Require approval, 3 = Confirm and approve
subscribe_policy = 3
unsubscribe_policy = 0
ban_list = ['spammer@bad.example.com', '^.*@junk\\.example\\.net$']
private_roster = 1
obscure_addresses = 1
default_member_moderation = 0
member_moderation_action = 0
member_moderation_notice = ''
accept_these_nonmembers = ['cron@build.example.org', '@announce']
hold_these_nonmembers = []
reject_these_nonmembers = []
discard_these_nonmembers = ['^.*@spam\\.example$']
generic_nonmember_action = 1
forward_auto_discards = 1
nonmember_rejection_notice = u'Only members may post; r\xe9ponse automatique.'
require_explicit_destination = 1
acceptable_aliases = """
users@example.org
^users-.*@lists\.example\.org$
"""
max_num_recipients = 10
header_filter_rules = [('^Subject: .*viagra', 3, False)]
bounce_matching_headers = """
# Lines that *start* with a '#' are comments.
to: friend@public.com
message-id: relay.comanche.denmark.eu
"""

## Bounce options
bounce_processing = 1
bounce_score_threshold = 5.0
bounce_info_stale_after = 7
bounce_you_are_disabled_warnings = 3
bounce_you_are_disabled_warnings_interval = 7
bounce_unrecognized_goes_to_list_owner = 1
bounce_notify_owner_on_disable = 1
bounce_notify_owner_on_removal = 1

## Archive options
archive = True
archive_private = 0
archive_volume_frequency = 1

## Gateway options
nntp_host = ''
linked_newsgroup = ''
gateway_to_news = 0
gateway_to_mail = 0

## Autoreply options
autorespond_postings = 0
autoresponse_postings_text = ''
autorespond_admin = 0
autoresponse_admin_text = ''
autorespond_requests = 0
autoresponse_request_text = ''
autoresponse_graceperiod = 90

## Contentfilter options
filter_content = False
filter_mime_types = """image/*
application/x-msdownload"""
pass_mime_types = """multipart/mixed
multipart/alternative
text/plain"""
filter_filename_extensions = ['exe', 'bat', 'cmd', 'com', 'pif', 'scr', 'vbs', 'cpl']
pass_filename_extensions = []
collapse_alternatives = True
convert_html_to_plaintext = True
filter_action = 0

## Topics options
topics_enabled = 0
