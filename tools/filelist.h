/* filelist.h — turns `ortc run`'s PATH arguments (image files and folders)
 * into the ordered list of files to classify. Folders contribute their
 * files named .png/.jpg/.jpeg (any case), sorted by name; nothing is opened
 * or decoded here (pipeline.h does that).
 */
#ifndef ORTC_TOOLS_FILELIST_H
#define ORTC_TOOLS_FILELIST_H

#include <stddef.h>

typedef struct ortc_filelist {
    char **paths; /* n malloc'd paths, in classification order */
    size_t n, cap;
    /* Files inside folders that were not taken: not named as an image, or
     * not a regular file. `ignored` holds up to ORTC_FILELIST_IGNORED_KEPT
     * of them (malloc'd); n_ignored counts them all. */
    char **ignored;
    size_t n_ignored;
    /* Folders that could not be read during --recursive (their errors,
     * "DIR: cannot read folder: Permission denied"), malloc'd. */
    char **unreadable;
    size_t n_unreadable;
    int n_folders; /* folders among the arguments */
} ortc_filelist;

#define ORTC_FILELIST_IGNORED_KEPT 20

/* Appends the files named by args[0..n_args): a path that is a folder adds
 * the image files in it (sorted bytewise by name; with `recursive` also
 * those of its subfolders, depth first in name order; names starting with
 * '.' are skipped and symbolic links to folders are not followed); any
 * other path is added as given, whatever its name (it is decoded by
 * content, and a missing file fails when it is read). A folder argument
 * that yields no image file is an error. Returns 0, or -1 with one line in
 * err naming the folder (the list then holds what was added so far). */
int ortc_filelist_add(ortc_filelist *list, const char *const *args, size_t n_args, int recursive,
                      char *err, size_t errlen);
/* True when `name` ends in .png, .jpg or .jpeg (any case). */
int ortc_filelist_is_image_name(const char *name);
void ortc_filelist_free(ortc_filelist *list); /* frees everything, zeroes list */

#endif
