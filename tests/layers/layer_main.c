/* An empty program: the point is what the linker must resolve (CMakeLists.txt). */
int main(void)
{
    return 0;
}
