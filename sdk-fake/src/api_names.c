/* api_names: the SDK API names the zone SDK accepts (spec sdk-api.md section 2). */
#include "api_names.h"

#include <stdlib.h>
#include <string.h>

/* Sorted (strcmp order): bsearch below relies on it, and test_sdk checks it. */
static const char *const names[] = {
    "create_chatdata_export_job",
    "create_customer_tag_task",
    "create_model_task",
    "create_private_task",
    "create_program_task",
    "create_recommend_dialog_task",
    "create_rule",
    "create_sentiment_task",
    "create_spam_task",
    "create_summary_task",
    "create_ww_model_task",
    "delete_rule",
    "document_list",
    "get_agree_status_room",
    "get_agree_status_single",
    "get_chatdata_export_job_status",
    "get_customer_tag_result",
    "get_group_chat",
    "get_hide_sensitiveinfo_config",
    "get_hit_msg_list",
    "get_model_task_result",
    "get_msg_list_by_page_id",
    "get_private_task_result",
    "get_program_task_result",
    "get_recommend_dialog_result",
    "get_rule_detail",
    "get_rule_list",
    "get_sentiment_result",
    "get_spam_result",
    "get_summary_result",
    "get_ww_model_result",
    "knowledge_base_add_doc",
    "knowledge_base_create",
    "knowledge_base_delete",
    "knowledge_base_detail",
    "knowledge_base_list",
    "knowledge_base_modify_name",
    "knowledge_base_remove_doc",
    "program_async_job_call_back",
    "search_chat",
    "search_contact_or_customer",
    "search_msg",
    "set_hide_sensitiveinfo_config",
    "spec_notify_app",
    "sync_msg",
    "update_rule",
};

static int cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

int zone_api_name_known(const char *name)
{
    if (!name)
        return 0;
    return bsearch(name, names, sizeof names / sizeof names[0], sizeof names[0], cmp) != NULL;
}

const char *zone_api_name_at(size_t i)
{
    return i < sizeof names / sizeof names[0] ? names[i] : NULL;
}
