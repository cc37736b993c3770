// main.cpp: a vendor-style C++ caller built against an installed zonesdk.
#include "cpp_sdk.h"

#include <iostream>

int main()
{
    std::string rsp;
    int ret = SpecSdk("wwcorp", 1000002, "invoke_sync_msg", "").Invoke("sync_msg", "{}", &rsp);
    std::cout << "notify_id=" << GenerateNotifyId().size() << " ret=" << ret << std::endl;
    return ret == -10001 ? 0 : 1; // no ZONELAB_* variables: the fake refuses
}
